/** The ledger repository: every write the node makes to the ledger goes through here. */
export * from './episode-state.js';
export * from './evidence.js';
export * from './read-leg.js';
export * from './reconciliation-run.js';
export * from './record-assessment.js';
export * from './record-leg-attempt.js';
export * from './record-message.js';
export * from './record-settlement.js';
export * from './open-episodes.js';
export * from './record-decision.js';
export * from './record-shortfall.js';
export * from './register-chains.js';
export * from './reservations.js';
export * from './transition-leg.js';
export * from './watcher-checkpoint.js';
export * from './open-findings.js';
export * from './legs-in-progress.js';

export type { NoActionReason, PolicyDecision, PolicyLeg } from './decision.js';
export { decide } from './decide.js';
export type { PolicyAssessment, PolicyInFlight, PolicyPosition, PolicyRoute, PolicySnapshot, PolicySource, PolicyTerms } from './snapshot.js';
export { BASE_UNITS_PER_USD, unitsDown, unitsUp, usdOf } from './usd.js';
export { SnapshotError, validateSnapshot } from './validate-snapshot.js';
export { decideUnwind, type UnwindOrder, type UnwindPosition, type UnwindSnapshot } from './unwind.js';

import type { ShortfallReport } from '../../../relayer/orchestrator/shortfall-report.js';
import { ALPHA, ENGINE, accountOf } from '../../db/support/fixtures.js';

/** Report `n` of the orchestrator tests that run without chains: its own account and episode on alpha. */
export function syntheticReport(n: number, overrides: Partial<ShortfallReport> = {}): ShortfallReport {
  return {
    chainId: ALPHA,
    engine: ENGINE,
    account: accountOf(n),
    episode: String(n),
    reason: 'breach',
    equity: '900000000',
    maintenance: '1000000000',
    requiredAmount: '250000000',
    mEff: 0.05,
    detectedBlock: '100',
    detectedAt: new Date('2026-11-24T12:00:00Z').toISOString(),
    ...overrides,
  };
}

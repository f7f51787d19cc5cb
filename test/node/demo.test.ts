import { describe, expect, it } from 'vitest';
import { runDemo } from '../../relayer/demo/run-demo.js';
import { DEFAULT_SCENARIO } from '../../relayer/demo/scenario.js';
import { createTestDatabase } from '../db/support/test-database.js';

describe('the devnet demo, reduced', () => {
  it('2 chains, 30 accounts: every account the crash put at risk is restored or reported uncovered, and reconciliation is clean', async () => {
    const database = await createTestDatabase();
    const lines: string[] = [];
    try {
      const result = await runDemo({
        scenarioFile: DEFAULT_SCENARIO,
        chains: 2,
        accounts: 30,
        redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
        databaseUrl: database.url,
        settleTimeoutMs: 60_000,
        log: (line) => lines.push(line),
      });
      expect(result.progress.shortfalls).toBeGreaterThan(0);
      expect(result.findings).toBe(0);
      expect(result.ok, lines.join('\n')).toBe(true);
      expect(lines.some((line) => line.startsWith('reconciliation: clean'))).toBe(true);
      expect(lines.some((line) => /^\s+\w+ -> \w+\s+(collateral|liquidity)/.test(line))).toBe(true);
    } finally {
      await database.drop();
    }
  }, 180_000);
});

import { describe, expect, it } from 'vitest';
import { AccountColumns } from '../../relayer/risk/account-columns.js';
import { accountVerdict } from '../../relayer/risk/account-verdict.js';
import { compileAccount } from '../../relayer/risk/compiled-account.js';
import { conditionHealth, effectivePrices, EITHER, FORECAST, WARN } from '../../relayer/risk/effective-price.js';
import { FloatHealth, floatMarkets } from '../../relayer/risk/float-verdict.js';
import type { MarketTable } from '../../relayer/risk/market-table.js';
import { riskConfig } from '../../relayer/risk/risk-config.js';
import { RiskEngine, type RiskChange } from '../../relayer/risk/risk-engine.js';
import { accountAddress, syntheticAccount, syntheticMarkets, type SyntheticMarket } from '../../relayer/risk/synthetic-population.js';
import type { AccountState } from '../../relayer/risk/types.js';
import { floorDiv, RATE_SCALE } from '../../relayer/risk/units.js';
import { SeededRandom } from '../../relayer/seeded-random.js';

const START = 1_700_000_000;

function pricedEngine(markets: readonly SyntheticMarket[], forecast: boolean): RiskEngine {
  const config = riskConfig({ actionSeconds: 30, warn: 0.1, target: 0.25, forecastLevel: forecast ? 0.05 : undefined });
  const engine = new RiskEngine({ markets: markets.map((market) => market.params), config, now: START });
  engine.applyPriceRounds(
    markets.map((market) => ({ market: market.params.id, roundId: 1n, answer: market.price, updatedAt: START })),
    START,
  );
  return engine;
}

/**
 * The account with its collateral moved so that its warn health at `table` is within one
 * collateral unit of 0: healthy by less than a unit (`side` 0) or breached by less (-1).
 */
function onThreshold(state: AccountState, table: MarketTable, side: 0 | -1): AccountState {
  const health = accountVerdict(compileAccount(state, table.catalog), table).warnHealth;
  if (health === undefined) return state;
  const unit = table.catalog.denominator * RATE_SCALE;
  return { ...state, collateral: state.collateral - floorDiv(health, unit) + BigInt(side) };
}

/** What a watcher hands the engine for an account gone (or the backstop): empty, health exactly 0. */
const removed = (account: string): AccountState => ({ account, collateral: 0n, positions: [] });

const sign = (value: bigint): number => (value > 0n ? 1 : value < 0n ? -1 : 0);

describe('the float verdict', () => {
  it('has the exact sign whenever it is outside its error bound, and leaves exact zeros to the exact check', () => {
    const random = new SeededRandom(61);
    const markets = syntheticMarkets();
    const table = pricedEngine(markets, true).table;
    const prices = table.markets.map((market) => effectivePrices(market, 3));
    const floats = floatMarkets(table, prices, 6);
    const columns = new AccountColumns({ markets: markets.length });
    const health = new FloatHealth();
    let decided = 0;
    let undecided = 0;
    for (let i = 0; i < 3000; i++) {
      const drawn = syntheticAccount({ id: accountAddress(i), markets, random });
      const state = i % 3 === 0 ? drawn : i % 3 === 1 ? onThreshold(drawn, table, 0) : onThreshold(drawn, table, -1);
      for (const candidate of [state, removed(state.account)]) {
        const compiled = compileAccount(candidate, table.catalog);
        columns.set(i, compiled, Number(table.catalog.denominator));
        for (const condition of [WARN, FORECAST, EITHER]) {
          const exact = conditionHealth({ account: compiled, table, condition });
          if (exact === undefined) throw new Error('every synthetic market is priced');
          health.compute(columns, i, floats, condition);
          if (!health.decided) {
            undecided += 1;
            continue;
          }
          decided += 1;
          expect(Math.sign(health.value), `${candidate.account} condition ${condition}`).toBe(sign(exact));
          const exactValue = Number(exact) / (Number(table.catalog.denominator) * Number(RATE_SCALE));
          expect(Math.abs(exactValue - health.value)).toBeLessThanOrEqual(health.error);
        }
      }
    }
    // Accounts a unit from the threshold are still far outside the bound (~1e-15 of the notional).
    expect(decided).toBe(3000 * 3);
    expect(undecided).toBe(3000 * 3);
  });
});

describe('the typed-array index', () => {
  it.each([
    [71, false],
    [72, true],
    [73, true],
  ])('reports exactly the exact full scan’s breaches through moves, updates and removals (seed %i, forecast %s)', (seed, forecast) => {
    const random = new SeededRandom(seed);
    const markets = syntheticMarkets();
    const engine = pricedEngine(markets, forecast);
    const prices = markets.map((market) => market.price);
    const count = 2000;
    const draw = (i: number): AccountState => {
      const drawn = syntheticAccount({ id: accountAddress(i), markets, random });
      const roll = random.next();
      return roll < 0.3 ? onThreshold(drawn, engine.table, 0) : roll < 0.6 ? onThreshold(drawn, engine.table, -1) : drawn;
    };
    const shadow = new Set<string>();
    const apply = (changes: readonly RiskChange[]): void => {
      for (const change of changes) {
        if (change.kind === 'reported') shadow.add(change.account);
        else expect(shadow.delete(change.account), `${change.account} recovered without a report`).toBe(true);
      }
    };
    apply(engine.upsertAccounts(Array.from({ length: count }, (_, i) => draw(i)), START));
    let now = START;
    for (let step = 0; step < 60; step++) {
      now += 60;
      const roll = random.next();
      if (roll < 0.55) {
        // Mostly small moves; now and then one large enough to cross more than FULL_SCAN_SHARE.
        const spread = random.chance(0.2) ? 0.08 : 0.004;
        const rounds = markets.map((market, m) => {
          prices[m] = BigInt(Math.max(1, Math.round(Number(prices[m] ?? 1n) * Math.exp(spread * random.normal()))));
          return { market: market.params.id, roundId: BigInt(step + 2), answer: prices[m] ?? 1n, updatedAt: now };
        });
        apply(engine.applyPriceRounds(rounds, now));
      } else if (roll < 0.85) {
        // Updates: new positions or collateral, many put back on their threshold at today's prices.
        apply(engine.upsertAccounts(Array.from({ length: 200 }, () => draw(random.int(0, count - 1))), now));
      } else {
        apply(engine.upsertAccounts(Array.from({ length: 200 }, () => removed(accountAddress(random.int(0, count - 1)))), now));
      }
      const atRisk = new Set(engine.atRiskAccounts());
      expect(atRisk, `step ${step}: transitions`).toEqual(shadow);
      expect(engine.fullScan(), `step ${step}: exact full scan`).toEqual(atRisk);
    }
    expect(engine.sweeps).toBeGreaterThan(0);
    expect(engine.exactEvaluations).toBeGreaterThan(0);
    expect(engine.exactEvaluations).toBeLessThan(engine.evaluations / 2);
  });
});

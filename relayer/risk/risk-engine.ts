import { RelayerError } from '../errors.js';
import { evaluateAccount, type AccountHealth } from './account-health.js';
import { AccountColumns } from './account-columns.js';
import { accountVerdict, type AccountVerdict } from './account-verdict.js';
import { compileAccount, type CompiledAccount } from './compiled-account.js';
import { conditionCount, conditionHealth, effectivePrices, EITHER, FORECAST, WARN, type EffectivePrice } from './effective-price.js';
import { FloatHealth, floatMarkets, accountFreshness, FRESH, type FloatMarkets } from './float-verdict.js';
import { fullScan } from './full-scan.js';
import { marketCatalog, marketIndex, type MarketCatalog } from './market-catalog.js';
import { statesAfterRounds } from './market-states.js';
import { marketTable, snapshotAt, type MarketTable } from './market-table.js';
import { validateMarketState } from './price-round.js';
import type { RiskConfig } from './risk-config.js';
import { TriggerBook } from './trigger-book.js';
import { placeConditionTriggers } from './trigger-placement.js';
import type { AccountId, AccountState, MarketId, MarketParams, MarketState, PriceRound } from './types.js';
import { RATE_SCALE } from './units.js';
import { initialMarketState } from './volatility.js';

/** An account whose at-risk verdict flipped: open an episode on `reported`, close it on `recovered`. */
export interface RiskChange {
  readonly kind: 'reported' | 'recovered';
  readonly account: AccountId;
}

export interface RiskEngineOptions {
  readonly markets: readonly MarketParams[];
  readonly config: RiskConfig;
  /** Unix seconds; the engine's clock moves only when told (block timestamps). */
  readonly now: number;
}

/**
 * Triggers within this fraction of the price of the new effective price fire too: far above the
 * float error of levels and keys (~1e-15 relative), far below any move that matters.
 */
const MARGIN = 1e-9;
/** Dead trigger entries tolerated beyond the live ones before all are compacted. */
const COMPACT_SLACK = 65_536;
/**
 * A move whose triggers reach more than this share of the accounts evaluates them in one pass
 * over all accounts, in order, instead of listing and sorting them: past it, the sequential
 * pass costs less than the sort and the scattered reads.
 */
export const FULL_SCAN_SHARE = 0.02;

/**
 * The incremental risk index of one chain's margin engine. A watcher feeds it account states,
 * price rounds and the block clock; each call returns the accounts whose at-risk verdict
 * flipped. Only accounts whose threshold can have been crossed are re-evaluated: per market
 * and effective price (effective-price.ts) two sets of sorted runs (trigger-runs.ts) hold each
 * account's trigger levels, and a move takes exactly the triggers between the old and the new level. Accounts are kept twice:
 * as floats in typed arrays (account-columns.ts), which a move reads, and compiled with their
 * exact bigints, which only a verdict too close to call reads: a popped account gets the float
 * verdict (float-verdict.ts) and, when a health is within its proven error bound of 0, the
 * exact one (account-verdict.ts), the one `fullScan` runs on every account. Markets that
 * become stale, fresh or priced re-evaluate all their holders (rare).
 */
export class RiskEngine {
  readonly #catalog: MarketCatalog;
  #config: RiskConfig;
  #states: MarketState[];
  #table: MarketTable;
  /** 1 (WARN) or 3 (WARN, FORECAST, EITHER): see effective-price.ts. */
  #conditions: number;
  #prices: (readonly EffectivePrice[] | undefined)[];
  #floatMarkets: FloatMarkets;
  #triggers: TriggerBook;
  readonly #ids = new Map<AccountId, number>();
  readonly #names: AccountId[] = [];
  readonly #accounts: CompiledAccount[] = [];
  readonly #columns: AccountColumns;
  readonly #denominator: number;
  /** Scratch for the float verdict, so an evaluation allocates nothing for it. */
  readonly #warn = new FloatHealth();
  readonly #forecast = new FloatHealth();
  readonly #either = new FloatHealth();
  readonly #versions: number[] = [];
  readonly #marks: number[] = [];
  /** Live trigger entries per account, to know when dead ones dominate. */
  readonly #entries: number[] = [];
  /** 1 where the account is at risk; a byte per account is cheaper to flip than a Set entry. */
  #atRisk = new Uint8Array(1024);
  #atRiskCount = 0;
  readonly #healthScale: number;
  #liveEntries = 0;
  #batch = 0;
  #evaluations = 0;
  #exactEvaluations = 0;
  #sweeps = 0;

  constructor(options: RiskEngineOptions) {
    this.#catalog = marketCatalog(options.markets);
    this.#config = options.config;
    this.#states = options.markets.map(initialMarketState);
    this.#table = this.#tableAt(options.now);
    this.#conditions = conditionCount(options.config.forecast !== undefined);
    this.#prices = this.#table.markets.map((market) => effectivePrices(market, this.#conditions));
    this.#floatMarkets = floatMarkets(this.#table, this.#prices, this.#conditions * 2);
    this.#triggers = this.#newTriggerBook();
    this.#healthScale = Number(this.#catalog.denominator) * Number(RATE_SCALE);
    this.#denominator = Number(this.#catalog.denominator);
    this.#columns = new AccountColumns({ markets: this.#catalog.markets.length });
  }

  get now(): number {
    return this.#table.now;
  }

  /** The markets as of `now`: what `assessAccount`/`evaluateAccount` take. */
  get table(): MarketTable {
    return this.#table;
  }

  get accountCount(): number {
    return this.#accounts.length;
  }

  /** Account evaluations done so far (the cost the index exists to keep small). */
  get evaluations(): number {
    return this.#evaluations;
  }

  /** Evaluations the float verdict could not decide, so that the exact one did. */
  get exactEvaluations(): number {
    return this.#exactEvaluations;
  }

  /** Moves that crossed more than FULL_SCAN_SHARE of the accounts, so that the pass over all of them ran. */
  get sweeps(): number {
    return this.#sweeps;
  }

  /** Trigger entries held (dead ones included), 16 bytes each. */
  get triggerEntries(): number {
    return this.#triggers.size;
  }

  /** Bytes per account of the float columns the index reads on a move. */
  get columnBytesPerAccount(): number {
    return this.#columns.bytesPerAccount;
  }

  /** Moves the clock: T_oracle grows, feeds may go stale. Any direction (a reorg may go back). */
  advanceTo(now: number): RiskChange[] {
    if (now === this.#table.now) return [];
    return this.#commit(this.#tableAt(now));
  }

  /**
   * A new round of a market's feed, seen at `now`. A round not newer (by roundId) than the last
   * one is a repeat and changes nothing but the clock.
   */
  applyPriceRound(round: PriceRound, now: number): RiskChange[] {
    return this.applyPriceRounds([round], now);
  }

  /**
   * The rounds of one block, applied together: an account with positions in several of the
   * markets is re-evaluated once, against all the new prices.
   */
  applyPriceRounds(rounds: readonly PriceRound[], now: number): RiskChange[] {
    const states = statesAfterRounds({ catalog: this.#catalog, states: this.#states, rounds, lambda: this.#config.lambda });
    if (states === undefined) return this.advanceTo(now);
    const table = this.#tableAt(now, { states });
    this.#states = states;
    return this.#commit(table);
  }

  /** A market's round and variance, to be kept per block and restored on a reorg. */
  marketState(market: MarketId): MarketState {
    return this.#stateAt(marketIndex(this.#catalog, market));
  }

  restoreMarket(params: { market: MarketId; state: MarketState; now: number }): RiskChange[] {
    validateMarketState(params.market, params.state);
    const index = marketIndex(this.#catalog, params.market);
    const states = this.#states.map((state, i) => (i === index ? params.state : state));
    const table = this.#tableAt(params.now, { states });
    this.#states = states;
    return this.#commit(table);
  }

  /** New settings (T_act, z, warn, forecast...); turning the forecast on or off rebuilds the index. */
  reconfigure(config: RiskConfig, now: number): RiskChange[] {
    const table = this.#tableAt(now, { config });
    this.#config = config;
    const conditions = conditionCount(config.forecast !== undefined);
    if (conditions === this.#conditions) return this.#commit(table);
    this.#conditions = conditions;
    this.#table = table;
    this.#prices = this.#table.markets.map((market) => effectivePrices(market, this.#conditions));
    this.#floatMarkets = floatMarkets(this.#table, this.#prices, this.#conditions * 2);
    this.#triggers = this.#newTriggerBook();
    this.#entries.fill(0);
    this.#liveEntries = 0;
    const changes: RiskChange[] = [];
    for (let id = 0; id < this.#accounts.length; id++) this.#evaluate(id, changes);
    return changes;
  }

  /** An account's new state (from its events), seen at `now`. */
  upsertAccount(state: AccountState, now: number): RiskChange[] {
    return this.upsertAccounts([state], now);
  }

  /** Several accounts at once (a block's, or a backfill); all are validated before any is applied. */
  upsertAccounts(states: Iterable<AccountState>, now: number): RiskChange[] {
    const accounts = Array.from(states, (state) => compileAccount(state, this.#catalog));
    const changes = this.advanceTo(now);
    for (const account of accounts) this.#upsert(account, changes);
    this.#compactIfNeeded();
    return changes;
  }

  /** The full, exact health of an account now: what a shortfall report is built from. */
  health(account: AccountId): AccountHealth | undefined {
    const id = this.#ids.get(account);
    const compiled = id === undefined ? undefined : this.#accounts[id];
    return compiled === undefined ? undefined : evaluateAccount(compiled, this.#table);
  }

  isAtRisk(account: AccountId): boolean {
    const id = this.#ids.get(account);
    return id !== undefined && this.#atRisk[id] === 1;
  }

  get atRiskCount(): number {
    return this.#atRiskCount;
  }

  /** The accounts at risk now, in the order they were first seen. */
  atRiskAccounts(): AccountId[] {
    const accounts: AccountId[] = [];
    for (let id = 0; id < this.#names.length; id++) if (this.#atRisk[id] === 1) accounts.push(this.#names[id] as AccountId);
    return accounts;
  }

  /** The reference path: every account evaluated exactly against the current markets. */
  fullScan(): Set<AccountId> {
    return fullScan(this.#accounts, this.#table);
  }

  #upsert(account: CompiledAccount, changes: RiskChange[]): void {
    let id = this.#ids.get(account.id);
    if (id === undefined) {
      id = this.#accounts.length;
      this.#ids.set(account.id, id);
      this.#names.push(account.id);
      this.#accounts.push(account);
      this.#versions.push(0);
      this.#marks.push(0);
      this.#entries.push(0);
      if (id >= this.#atRisk.length) {
        const grown = new Uint8Array(this.#atRisk.length * 2);
        grown.set(this.#atRisk);
        this.#atRisk = grown;
      }
    } else {
      this.#accounts[id] = account;
    }
    this.#columns.set(id, account, this.#denominator);
    this.#evaluate(id, changes);
  }

  /** Switches to `next` and re-evaluates the accounts whose triggers the change passed. */
  #commit(next: MarketTable): RiskChange[] {
    const previous = this.#table;
    const previousPrices = this.#prices;
    this.#table = next;
    this.#prices = next.markets.map((market) => effectivePrices(market, this.#conditions));
    this.#floatMarkets = floatMarkets(next, this.#prices, this.#conditions * 2);
    const batch = ++this.#batch;
    const drains: { market: number; slot: number; below: boolean; limit: number }[] = [];
    const holdersOf: number[] = [];
    for (let market = 0; market < next.markets.length; market++) {
      if (snapshotAt(previous, market).freshness !== snapshotAt(next, market).freshness) {
        holdersOf.push(market);
        continue;
      }
      for (let slot = 0; slot < this.#conditions * 2; slot++) {
        const before = previousPrices[market]?.[slot];
        const after = this.#prices[market]?.[slot];
        if (before === undefined || after === undefined) continue;
        if (after.exact < before.exact) drains.push({ market, slot, below: true, limit: after.value - MARGIN * after.price });
        else if (after.exact > before.exact) drains.push({ market, slot, below: false, limit: after.value + MARGIN * after.price });
      }
    }
    const due = drains.reduce((sum, drain) => sum + this.#triggers.countDue(drain), 0);
    const sweep = holdersOf.length > 0 || due > FULL_SCAN_SHARE * this.#accounts.length;
    const candidates: number[] = [];
    const marks = this.#marks;
    const versions = this.#versions;
    const visit = (id: number, version: number): void => {
      if (versions[id] === version && marks[id] !== batch) {
        marks[id] = batch;
        if (!sweep) candidates.push(id);
      }
    };
    for (const drain of drains) this.#triggers.drain({ ...drain, visit });
    for (const market of holdersOf) this.#markHolders(market, batch);
    const changes: RiskChange[] = [];
    if (sweep) {
      this.#sweeps += 1;
      for (let id = 0; id < this.#accounts.length; id++) if (marks[id] === batch) this.#evaluate(id, changes);
    } else {
      // In account order, i.e. the order of the columns: the triggers hand them out scattered.
      for (const id of Int32Array.from(candidates).sort()) this.#evaluate(id, changes);
    }
    this.#compactIfNeeded();
    return changes;
  }

  /** Staleness and first prices change the verdict of every holder at once: a scan, but a rare one. */
  #markHolders(market: number, batch: number): void {
    const sizes = this.#columns.sizes;
    const stride = this.#columns.markets;
    for (let id = 0; id < this.#accounts.length; id++) if (sizes[id * stride + market] !== 0) this.#marks[id] = batch;
  }

  #evaluate(id: number, changes: RiskChange[]): void {
    this.#evaluations += 1;
    // A new version orphans every trigger the account had.
    const version = ((this.#versions[id] ?? 0) + 1) >>> 0;
    this.#versions[id] = version;
    this.#liveEntries -= this.#entries[id] ?? 0;
    this.#triggers.begin({ id, version });
    const atRisk = this.#floatVerdict(id) ?? this.#exactVerdict(id);
    this.#entries[id] = this.#triggers.placed;
    this.#liveEntries += this.#triggers.placed;
    if (atRisk !== (this.#atRisk[id] === 1)) {
      this.#atRisk[id] = atRisk ? 1 : 0;
      this.#atRiskCount += atRisk ? 1 : -1;
      changes.push({ kind: atRisk ? 'reported' : 'recovered', account: this.#names[id] as AccountId });
    }
  }

  /**
   * The verdict and its triggers from the float columns, as #exactVerdict would reach them;
   * undefined, with nothing placed, when a health it needs is within its error bound of 0.
   */
  #floatVerdict(id: number): boolean | undefined {
    const markets = this.#floatMarkets;
    // Unpriced or stale accounts need no triggers: only their market's freshness can change them.
    if (accountFreshness(this.#columns, id, markets) !== FRESH) return true;
    const warn = this.#warn;
    warn.compute(this.#columns, id, markets, WARN);
    if (!warn.decided) return undefined;
    if (this.#conditions === 1) {
      this.#placeFloat(id, WARN, warn);
      return warn.value < 0;
    }
    const forecast = this.#forecast;
    forecast.compute(this.#columns, id, markets, FORECAST);
    if (!forecast.decided) return undefined;
    const atRisk = warn.value < 0 || forecast.value < 0;
    if (this.#legCount(id) <= 1) {
      // EITHER's health is the smaller of the two: a failed one's, or the lesser of their cautious values.
      const failed = warn.value < 0 ? warn : forecast;
      this.#placeAt(id, EITHER, atRisk ? failed.cautious : Math.min(warn.cautious, forecast.cautious), !atRisk);
    } else if (atRisk) {
      this.#placeFloat(id, warn.value < 0 ? WARN : FORECAST, warn.value < 0 ? warn : forecast);
    } else {
      const either = this.#either;
      either.compute(this.#columns, id, markets, EITHER);
      if (!either.decided) return undefined;
      if (either.value > 0) {
        this.#placeFloat(id, EITHER, either);
      } else {
        this.#placeFloat(id, WARN, warn);
        this.#placeFloat(id, FORECAST, forecast);
      }
    }
    return atRisk;
  }

  #exactVerdict(id: number): boolean {
    this.#exactEvaluations += 1;
    const account = this.#accountAt(id);
    const verdict = accountVerdict(account, this.#table);
    if (verdict.fresh) this.#placeTriggers(id, account, verdict);
    return verdict.atRisk;
  }

  #legCount(id: number): number {
    const sizes = this.#columns.sizes;
    const offset = id * this.#columns.markets;
    let legs = 0;
    for (let m = 0; m < this.#columns.markets; m++) if (sizes[offset + m] !== 0) legs += 1;
    return legs;
  }

  /**
   * Triggers for the verdict just reached. With the forecast on, a healthy account is guarded by
   * EITHER (one trigger per position) when that bound holds, else by WARN and FORECAST each; an
   * at-risk one by the recovery of a condition it fails, since it cannot recover before that.
   */
  #placeTriggers(id: number, account: CompiledAccount, verdict: AccountVerdict): void {
    const warn = verdict.warnHealth;
    const forecast = verdict.forecastHealth;
    if (warn === undefined) return;
    if (this.#conditions === 1 || forecast === undefined) {
      this.#place(id, { condition: WARN, health: warn });
    } else if (account.legs.length <= 1) {
      // With one position EITHER's health is exactly the smaller of the two.
      this.#place(id, { condition: EITHER, health: warn < forecast ? warn : forecast });
    } else if (warn < 0n || forecast < 0n) {
      this.#place(id, warn < 0n ? { condition: WARN, health: warn } : { condition: FORECAST, health: forecast });
    } else {
      const either = conditionHealth({ account, table: this.#table, condition: EITHER });
      if (either !== undefined && either >= 0n) {
        this.#place(id, { condition: EITHER, health: either });
      } else {
        this.#place(id, { condition: WARN, health: warn });
        this.#place(id, { condition: FORECAST, health: forecast });
      }
    }
  }

  #place(id: number, guard: { condition: number; health: bigint }): void {
    const { condition, health } = guard;
    this.#placeAt(id, condition, Number(health) / this.#healthScale, health >= 0n);
  }

  /** The float health moved toward 0 by its error bound: triggers can only come nearer. */
  #placeFloat(id: number, condition: number, health: FloatHealth): void {
    this.#placeAt(id, condition, health.cautious, health.value > 0);
  }

  #placeAt(id: number, condition: number, health: number, healthy: boolean): void {
    placeConditionTriggers({ sizes: this.#columns.sizes, offset: id * this.#columns.markets, condition, health, healthy, prices: this.#prices, sink: this.#triggers });
  }

  #compactIfNeeded(): void {
    if (this.#triggers.size <= 2 * this.#liveEntries + COMPACT_SLACK) return;
    this.#triggers.compact((id, version) => this.#versions[id] === version);
  }

  #newTriggerBook(): TriggerBook {
    return new TriggerBook({ markets: this.#catalog.markets.length, slots: this.#conditions * 2 });
  }

  /** Validates `now` (and builds everything) before the caller changes any state. */
  #tableAt(now: number, change: { states?: readonly MarketState[]; config?: RiskConfig } = {}): MarketTable {
    return marketTable({ catalog: this.#catalog, config: change.config ?? this.#config, states: change.states ?? this.#states, now });
  }

  #stateAt(index: number): MarketState {
    const state = this.#states[index];
    if (state === undefined) throw new RelayerError(`no state for market index ${index}`);
    return state;
  }

  #accountAt(id: number): CompiledAccount {
    const account = this.#accounts[id];
    if (account === undefined) throw new RelayerError(`no account with index ${id}`);
    return account;
  }
}

import { RelayerError } from '../errors.js';
import { evaluateAccount, type AccountHealth } from './account-health.js';
import { accountVerdict, type AccountVerdict } from './account-verdict.js';
import { compileAccount, type CompiledAccount } from './compiled-account.js';
import { conditionCount, conditionHealth, effectivePrices, EITHER, FORECAST, WARN, type EffectivePrice } from './effective-price.js';
import { fullScan } from './full-scan.js';
import { marketCatalog, marketIndex, type MarketCatalog } from './market-catalog.js';
import { statesAfterRounds } from './market-states.js';
import { marketTable, snapshotAt, type MarketTable } from './market-table.js';
import { validateMarketState } from './price-round.js';
import type { RiskConfig } from './risk-config.js';
import { TriggerBook } from './trigger-book.js';
import type { HeapEntry } from './trigger-heap.js';
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
/** Dead heap entries tolerated beyond the live ones before all heaps are compacted. */
const COMPACT_SLACK = 65_536;

/**
 * The incremental risk index of one chain's margin engine. A watcher feeds it account states,
 * price rounds and the block clock; each call returns the accounts whose at-risk verdict
 * flipped. Only accounts whose threshold can have been crossed are re-evaluated: per market
 * and effective price (effective-price.ts) two heaps hold each account's trigger levels, and a
 * move pops exactly the triggers between the old and the new level. Every popped account gets
 * the exact evaluation (account-verdict.ts), the same one `fullScan` runs on every account.
 * Markets that become stale, fresh or priced re-evaluate all their holders (rare).
 */
export class RiskEngine {
  readonly #catalog: MarketCatalog;
  #config: RiskConfig;
  #states: MarketState[];
  #table: MarketTable;
  /** 1 (WARN) or 3 (WARN, FORECAST, EITHER): see effective-price.ts. */
  #conditions: number;
  #prices: (readonly EffectivePrice[] | undefined)[];
  #triggers: TriggerBook;
  readonly #ids = new Map<AccountId, number>();
  readonly #accounts: CompiledAccount[] = [];
  readonly #versions: number[] = [];
  readonly #marks: number[] = [];
  /** Live heap entries per account, to know when dead ones dominate. */
  readonly #entries: number[] = [];
  /** 1 where the account is at risk; a byte per account is cheaper to flip than a Set entry. */
  #atRisk = new Uint8Array(1024);
  #atRiskCount = 0;
  readonly #healthScale: number;
  #liveEntries = 0;
  #batch = 0;
  #evaluations = 0;

  constructor(options: RiskEngineOptions) {
    this.#catalog = marketCatalog(options.markets);
    this.#config = options.config;
    this.#states = options.markets.map(initialMarketState);
    this.#table = this.#tableAt(options.now);
    this.#conditions = conditionCount(options.config.forecast !== undefined);
    this.#prices = this.#table.markets.map((market) => effectivePrices(market, this.#conditions));
    this.#triggers = this.#newTriggerBook();
    this.#healthScale = Number(this.#catalog.denominator) * Number(RATE_SCALE);
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

  /** Exact evaluations done so far (the cost the index exists to keep small). */
  get evaluations(): number {
    return this.#evaluations;
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
    this.#accounts.forEach((account, id) => {
      if (this.#atRisk[id] === 1) accounts.push(account.id);
    });
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
    this.#evaluate(id, changes);
  }

  /** Switches to `next` and re-evaluates the accounts whose triggers the change passed. */
  #commit(next: MarketTable): RiskChange[] {
    const previous = this.#table;
    const previousPrices = this.#prices;
    this.#table = next;
    this.#prices = next.markets.map((market) => effectivePrices(market, this.#conditions));
    const batch = ++this.#batch;
    const candidates: number[] = [];
    const visit = (id: number, version: number): void => {
      if (this.#versions[id] === version && this.#marks[id] !== batch) {
        this.#marks[id] = batch;
        candidates.push(id);
      }
    };
    for (let market = 0; market < next.markets.length; market++) {
      if (snapshotAt(previous, market).freshness !== snapshotAt(next, market).freshness) {
        this.#collectHolders({ market, batch, candidates });
        continue;
      }
      for (let slot = 0; slot < this.#conditions * 2; slot++) {
        const before = previousPrices[market]?.[slot];
        const after = this.#prices[market]?.[slot];
        if (before === undefined || after === undefined) continue;
        if (after.exact < before.exact) {
          this.#triggers.drain({ market, slot, below: true, limit: after.value - MARGIN * after.price, visit });
        } else if (after.exact > before.exact) {
          this.#triggers.drain({ market, slot, below: false, limit: after.value + MARGIN * after.price, visit });
        }
      }
    }
    const changes: RiskChange[] = [];
    // In account order, i.e. roughly allocation order: the heaps hand them out scattered, and
    // evaluating them in memory order is what makes a large batch cheap.
    for (const id of Int32Array.from(candidates).sort()) this.#evaluate(id, changes);
    this.#compactIfNeeded();
    return changes;
  }

  /** Staleness and first prices change the verdict of every holder at once: a scan, but a rare one. */
  #collectHolders(params: { market: number; batch: number; candidates: number[] }): void {
    const { market, batch, candidates } = params;
    this.#accounts.forEach((account, id) => {
      if (this.#marks[id] !== batch && account.legs.some((leg) => leg.market === market)) {
        this.#marks[id] = batch;
        candidates.push(id);
      }
    });
  }

  #evaluate(id: number, changes: RiskChange[]): void {
    this.#evaluations += 1;
    const account = this.#accountAt(id);
    const verdict = accountVerdict(account, this.#table);
    if (verdict.atRisk !== (this.#atRisk[id] === 1)) {
      this.#atRisk[id] = verdict.atRisk ? 1 : 0;
      this.#atRiskCount += verdict.atRisk ? 1 : -1;
      changes.push({ kind: verdict.atRisk ? 'reported' : 'recovered', account: account.id });
    }
    // A new version orphans every trigger the account had.
    const version = ((this.#versions[id] ?? 0) + 1) >>> 0;
    this.#versions[id] = version;
    this.#liveEntries -= this.#entries[id] ?? 0;
    this.#entries[id] = 0;
    // Unpriced or stale accounts need no triggers: only their market's freshness can change them.
    if (verdict.fresh) this.#placeTriggers({ id, version }, account, verdict);
  }

  /**
   * Triggers for the verdict just reached. With the forecast on, a healthy account is guarded by
   * EITHER (one trigger per position) when that bound holds, else by WARN and FORECAST each; an
   * at-risk one by the recovery of a condition it fails, since it cannot recover before that.
   */
  #placeTriggers(entry: HeapEntry, account: CompiledAccount, verdict: AccountVerdict): void {
    const warn = verdict.warnHealth;
    const forecast = verdict.forecastHealth;
    if (warn === undefined) return;
    this.#triggers.begin(entry);
    if (this.#conditions === 1 || forecast === undefined) {
      this.#place(account, { condition: WARN, health: warn });
    } else if (account.legs.length <= 1) {
      // With one position EITHER's health is exactly the smaller of the two.
      this.#place(account, { condition: EITHER, health: warn < forecast ? warn : forecast });
    } else if (warn < 0n || forecast < 0n) {
      this.#place(account, warn < 0n ? { condition: WARN, health: warn } : { condition: FORECAST, health: forecast });
    } else {
      const either = conditionHealth({ account, table: this.#table, condition: EITHER });
      if (either !== undefined && either >= 0n) {
        this.#place(account, { condition: EITHER, health: either });
      } else {
        this.#place(account, { condition: WARN, health: warn });
        this.#place(account, { condition: FORECAST, health: forecast });
      }
    }
    this.#entries[entry.id] = this.#triggers.placed;
    this.#liveEntries += this.#triggers.placed;
  }

  #place(account: CompiledAccount, guard: { condition: number; health: bigint }): void {
    const { condition, health } = guard;
    placeConditionTriggers({
      account,
      condition,
      health: Number(health) / this.#healthScale,
      healthy: health >= 0n,
      prices: this.#prices,
      sink: this.#triggers,
    });
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

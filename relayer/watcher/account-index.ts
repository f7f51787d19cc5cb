import { getAddress, isAddressEqual, type Address, type Hex } from 'viem';
import { applyEngineLogs, emptyEngineState, type EngineAccount, type EngineState } from '../../chains/protocol/engine-log.js';
import type { EngineRange } from '../../chains/watch/engine-range.js';
import { ConfigError, RelayerError } from '../errors.js';
import { RiskEngine, type AccountHealth, type AccountState, type MarketParams, type MarketState, type PriceRound, type RiskChange, type RiskConfig } from '../risk/index.js';
import { UndoLog, type UndoEntry } from './undo-log.js';

/** A followed market: its risk parameters (from the engine) and the feed that prices it. */
export interface IndexedMarket {
  readonly params: MarketParams;
  readonly feed: Address;
  /** A heartbeat from configuration overrides the engine's `maxPriceAge`. */
  readonly heartbeatOverride: number | undefined;
}

const cloneAccount = (account: EngineAccount): EngineAccount => ({ ...account, positions: new Map(account.positions) });

/**
 * One chain's margin engine as its events tell it, valued by the risk engine: the account index
 * of a watcher. Ranges are applied in order; each leaves an undo entry so that a reorg within
 * the window takes the state back without a rebuild. Accounts whose at-risk verdict flipped
 * are collected in `dirty` for the watcher to turn into episodes.
 */
export class AccountIndex {
  readonly #markets: Map<Hex, IndexedMarket>;
  readonly #marketOfFeed = new Map<Address, Hex>();
  readonly #config: RiskConfig;
  readonly #undo = new UndoLog();
  #engine: EngineState = emptyEngineState();
  #risk: RiskEngine;
  #badDebt = new Map<Address, bigint>();
  #appliedThrough: bigint;
  /** Accounts whose verdict may have flipped, or that stayed at risk while their state or prices moved, since the watcher last looked. */
  readonly dirty = new Set<Address>();
  /** Set while a range is half applied: the state is then unusable and must be rebuilt. */
  #broken = false;

  constructor(params: { markets: readonly IndexedMarket[]; config: RiskConfig; startBlock: bigint }) {
    this.#markets = new Map(params.markets.map((market) => [market.params.id as Hex, market]));
    for (const market of params.markets) this.#marketOfFeed.set(getAddress(market.feed), market.params.id as Hex);
    this.#config = params.config;
    this.#risk = this.#newRiskEngine(0);
    this.#appliedThrough = params.startBlock - 1n;
  }

  /** The last block whose logs are in the state. */
  get appliedThrough(): bigint {
    return this.#appliedThrough;
  }

  get broken(): boolean {
    return this.#broken;
  }

  get now(): number {
    return this.#risk.now;
  }

  get accounts(): ReadonlyMap<Address, EngineAccount> {
    return this.#engine.accounts;
  }

  get atRiskCount(): number {
    return this.#risk.atRiskCount;
  }

  atRiskAccounts(): Address[] {
    return this.#risk.atRiskAccounts().map((account) => account as Address);
  }

  isAtRisk(account: Address): boolean {
    return this.#risk.isAtRisk(account);
  }

  health(account: Address): AccountHealth | undefined {
    return this.#risk.health(account);
  }

  /** Insurance-fund cover the account has received so far: its bad debt the protocol took. */
  badDebtCovered(account: Address): bigint {
    return this.#badDebt.get(account) ?? 0n;
  }

  marketState(market: Hex): MarketState {
    return this.#risk.marketState(market);
  }

  /** Applies the range [from, to] whose end block has `timestamp`; ranges must follow each other. */
  apply(params: { from: bigint; to: bigint; timestamp: number; range: EngineRange }): void {
    const { from, to, timestamp, range } = params;
    if (this.#broken) throw new RelayerError('the account index is half applied and must be rebuilt');
    if (from !== this.#appliedThrough + 1n) throw new RelayerError(`range [${from}, ${to}] does not follow block ${this.#appliedThrough}`);
    const rounds = range.rounds.flatMap((round): PriceRound[] => {
      const market = this.#marketOfFeed.get(round.feed);
      return market === undefined ? [] : [{ market, roundId: round.roundId, answer: round.answer, updatedAt: Number(round.updatedAt) }];
    });
    const nextParams = this.#reconfigured(range);
    // A new backstop changes how the old and the new one are valued.
    const touched = new Set(range.touched);
    if (range.backstop !== undefined) for (const backstop of [range.backstop, this.#engine.backstop]) if (backstop !== undefined) touched.add(backstop);
    const entry = this.#undoEntry({ from, to, range, touched, rounds, reconfigured: nextParams !== undefined });
    this.#broken = true;
    applyEngineLogs(this.#engine, range.engineLogs);
    for (const [account, amount] of range.badDebtCovered) this.#badDebt.set(account, (this.#badDebt.get(account) ?? 0n) + amount);
    if (nextParams !== undefined) this.#rebuildRisk(nextParams, timestamp);
    this.#collect(this.#risk.upsertAccounts([...touched].map((account) => this.#riskState(account)), timestamp));
    this.#collect(this.#risk.applyPriceRounds(rounds, timestamp));
    this.#markMoved(touched, rounds);
    this.#broken = false;
    this.#undo.push(entry);
    this.#appliedThrough = to;
  }

  /**
   * Takes applied ranges back until the state is at or below `block`. Returns the block the
   * state is now at (the caller replays from there to `block`), or undefined when the undo log
   * does not reach that far (the caller rebuilds).
   */
  undoTo(block: bigint): bigint | undefined {
    if (block >= this.#appliedThrough) return this.#appliedThrough;
    if (this.#broken || !this.#undo.reaches(block)) return undefined;
    for (let entry = this.#undo.popAfter(block); entry !== undefined; entry = this.#undo.popAfter(block)) this.#restore(entry);
    return this.#appliedThrough;
  }

  /** Forgets undo entries no reorg can reach any more. */
  pruneUndo(keepAbove: bigint): void {
    this.#undo.pruneThrough(keepAbove);
  }

  #restore(entry: UndoEntry): void {
    this.#broken = true;
    const e = entry.engine;
    Object.assign(this.#engine, { insuranceFund: e.insuranceFund, liquidatorShare: e.liquidatorShare, vault: e.vault, backstop: e.backstop });
    this.#engine.markets.clear();
    for (const [id, market] of e.markets) this.#engine.markets.set(id, market);
    for (const [account, before] of entry.accounts) {
      if (before === undefined) this.#engine.accounts.delete(account);
      else this.#engine.accounts.set(account, before);
    }
    for (const [account, before] of entry.badDebtCovered) {
      if (before === undefined) this.#badDebt.delete(account);
      else this.#badDebt.set(account, before);
    }
    if (entry.params !== undefined) this.#rebuildRisk(entry.params, entry.now);
    for (const [market, state] of entry.marketStates) this.#collect(this.#risk.restoreMarket({ market, state, now: entry.now }));
    this.#collect(this.#risk.advanceTo(entry.now));
    this.#collect(this.#risk.upsertAccounts([...entry.accounts.keys()].map((account) => this.#riskState(account)), entry.now));
    this.#appliedThrough = entry.from - 1n;
    this.#broken = false;
  }

  #undoEntry(params: { from: bigint; to: bigint; range: EngineRange; touched: ReadonlySet<Address>; rounds: readonly PriceRound[]; reconfigured: boolean }): UndoEntry {
    const { range } = params;
    const accounts = new Map<Address, EngineAccount | undefined>();
    for (const account of params.touched) {
      const before = this.#engine.accounts.get(account);
      accounts.set(account, before === undefined ? undefined : cloneAccount(before));
    }
    const marketStates = new Map<Hex, MarketState>();
    for (const round of params.rounds) if (!marketStates.has(round.market as Hex)) marketStates.set(round.market as Hex, this.#risk.marketState(round.market));
    return {
      from: params.from,
      to: params.to,
      now: this.#risk.now,
      accounts,
      badDebtCovered: new Map([...range.badDebtCovered.keys()].map((account) => [account, this.#badDebt.get(account)])),
      marketStates,
      params: params.reconfigured ? new Map([...this.#markets].map(([id, market]) => [id, market.params])) : undefined,
      engine: {
        markets: new Map(this.#engine.markets),
        insuranceFund: this.#engine.insuranceFund,
        liquidatorShare: this.#engine.liquidatorShare,
        vault: this.#engine.vault,
        backstop: this.#engine.backstop,
      },
    };
  }

  /** The parameters after the range's `MarketConfigured` events; undefined when none changed. */
  #reconfigured(range: EngineRange): Map<Hex, MarketParams> | undefined {
    let next: Map<Hex, MarketParams> | undefined;
    for (const configured of range.marketsConfigured) {
      const market = this.#markets.get(configured.market);
      if (market === undefined) {
        throw new ConfigError(`the engine lists market ${configured.market} (feed ${configured.feed}), which the watcher does not follow: add it to the chain's markets`);
      }
      if (!isAddressEqual(configured.feed, market.feed)) {
        throw new ConfigError(`market ${configured.market} now reads feed ${configured.feed}, not the followed ${market.feed}: update the chain's markets`);
      }
      const params: MarketParams = {
        ...market.params,
        maintenanceFraction: configured.maintenanceMarginFraction,
        heartbeatSeconds: market.heartbeatOverride ?? Number(configured.maxPriceAge),
      };
      if (params.maintenanceFraction !== market.params.maintenanceFraction || params.heartbeatSeconds !== market.params.heartbeatSeconds) {
        next ??= new Map([...this.#markets].map(([id, m]) => [id, m.params]));
        next.set(configured.market, params);
      }
    }
    return next;
  }

  /** New market parameters: a new risk engine with the same market states and accounts (rare). */
  #rebuildRisk(params: ReadonlyMap<Hex, MarketParams>, now: number): void {
    const states = [...this.#markets.keys()].map((id) => [id, this.#risk.marketState(id)] as const);
    const before = new Set(this.#risk.atRiskAccounts());
    for (const [id, market] of this.#markets) {
      const next = params.get(id);
      if (next !== undefined) this.#markets.set(id, { ...market, params: next });
    }
    this.#risk = this.#newRiskEngine(now);
    for (const [market, state] of states) this.#risk.restoreMarket({ market, state, now });
    this.#risk.upsertAccounts([...this.#engine.accounts.keys()].map((account) => this.#riskState(account)), now);
    const after = new Set(this.#risk.atRiskAccounts());
    for (const account of [...before, ...after]) if (before.has(account) !== after.has(account)) this.dirty.add(account as Address);
  }

  #newRiskEngine(now: number): RiskEngine {
    return new RiskEngine({ markets: [...this.#markets.values()].map((market) => market.params), config: this.#config, now });
  }

  /**
   * The account as the risk engine takes it. The backstop (the vault, which takes absorbed
   * positions over) is the protocol itself, never a shortfall: it is valued as empty. An
   * account the state no longer has (undone) is empty too: never at risk.
   */
  #riskState(account: Address): AccountState {
    const state = this.#engine.accounts.get(account);
    const backstop = this.#engine.backstop;
    if (state === undefined || (backstop !== undefined && isAddressEqual(account, backstop))) return { account, collateral: 0n, positions: [] };
    return {
      account,
      collateral: state.collateral,
      positions: [...state.positions].map(([market, position]) => ({ market, size: position.size, entryPrice: position.entryPrice })),
    };
  }

  /**
   * Accounts still at risk whose state or prices moved in the range (their verdict did not
   * flip, so `#collect` did not see them): the watcher re-assesses their open episode.
   */
  #markMoved(touched: ReadonlySet<Address>, rounds: readonly PriceRound[]): void {
    for (const account of touched) if (this.isAtRisk(account)) this.dirty.add(account);
    if (rounds.length === 0 || this.atRiskCount === 0) return;
    const repriced = new Set(rounds.map((round) => round.market.toLowerCase()));
    for (const account of this.atRiskAccounts()) {
      const positions = this.#engine.accounts.get(account)?.positions.keys() ?? [];
      for (const market of positions) if (repriced.has(market.toLowerCase())) this.dirty.add(account);
    }
  }

  #collect(changes: readonly RiskChange[]): void {
    for (const change of changes) this.dirty.add(change.account as Address);
  }
}

import { getAddress, parseEventLogs, type Address, type Hex, type Log } from 'viem';
import { RelayerError } from '../../relayer/errors.js';
import { marginEngineAbi } from '../contracts/out/MarginEngine.js';
import { marketPriceFeedAbi } from '../contracts/out/MarketPriceFeed.js';
import type { MarketRisk, PositionState } from './health.js';

export interface EngineMarket extends MarketRisk {
  readonly feed: Address;
  /** Seconds a price stays usable for state changes. */
  readonly maxPriceAge: bigint;
}

export interface EngineAccount {
  collateral: bigint;
  crossChainConsent: boolean;
  /** Open positions only, by market id. */
  readonly positions: Map<Hex, PositionState>;
}

/** A margin engine's state as its events tell it. */
export interface EngineState {
  readonly markets: Map<Hex, EngineMarket>;
  readonly accounts: Map<Address, EngineAccount>;
  insuranceFund: bigint;
  liquidatorShare: bigint;
  vault: Address | undefined;
  backstop: Address | undefined;
}

export function emptyEngineState(): EngineState {
  return { markets: new Map(), accounts: new Map(), insuranceFund: 0n, liquidatorShare: 0n, vault: undefined, backstop: undefined };
}

const byChainOrder = (a: Log, b: Log): number =>
  a.blockNumber === b.blockNumber ? (a.logIndex ?? 0) - (b.logIndex ?? 0) : (a.blockNumber ?? 0n) < (b.blockNumber ?? 0n) ? -1 : 1;

function account(state: EngineState, address: Address): EngineAccount {
  let found = state.accounts.get(address);
  if (!found) {
    found = { collateral: 0n, crossChainConsent: false, positions: new Map() };
    state.accounts.set(address, found);
  }
  return found;
}

/**
 * Applies a margin engine's logs (any order; they are sorted by block and index) to `state`.
 * Every event carries the new value next to the change, so a gap in the logs shows: a
 * collateral, position or insurance event whose previous value does not match throws.
 */
export function applyEngineLogs(state: EngineState, logs: readonly Log[]): EngineState {
  const events = parseEventLogs({ abi: marginEngineAbi, logs: [...logs].sort(byChainOrder) });
  for (const event of events) {
    const where = `${event.eventName} in ${event.transactionHash ?? 'pending'}#${event.logIndex ?? '?'}`;
    switch (event.eventName) {
      case 'MarketConfigured': {
        const { market, feed, maintenanceMarginFraction, initialMarginFraction, liquidationPenalty, ammDepth, maxPriceAge } = event.args;
        state.markets.set(market, { feed, maintenanceMarginFraction, initialMarginFraction, liquidationPenalty, ammDepth, maxPriceAge });
        break;
      }
      case 'VaultSet':
        state.vault = event.args.vault;
        break;
      case 'BackstopSet':
        state.backstop = event.args.backstop;
        break;
      case 'LiquidatorShareSet':
        state.liquidatorShare = event.args.share;
        break;
      case 'CrossChainConsentSet':
        account(state, event.args.account).crossChainConsent = event.args.allowed;
        break;
      case 'CollateralChanged': {
        const target = account(state, event.args.account);
        if (target.collateral + event.args.delta !== event.args.balance) {
          throw new RelayerError(`${where}: collateral of ${event.args.account} was ${target.collateral}, event implies ${event.args.balance - event.args.delta}: logs are missing`);
        }
        target.collateral = event.args.balance;
        break;
      }
      case 'PositionChanged': {
        const { market, sizeDelta, size, entryPrice } = event.args;
        const positions = account(state, event.args.account).positions;
        const before = positions.get(market)?.size ?? 0n;
        if (before + sizeDelta !== size) {
          throw new RelayerError(`${where}: position of ${event.args.account} in ${market} was ${before}, event implies ${size - sizeDelta}: logs are missing`);
        }
        if (size === 0n) positions.delete(market);
        else positions.set(market, { size, entryPrice });
        break;
      }
      case 'InsuranceFundChanged':
        if (state.insuranceFund + event.args.delta !== event.args.balance) {
          throw new RelayerError(`${where}: insurance fund was ${state.insuranceFund}, event implies ${event.args.balance - event.args.delta}: logs are missing`);
        }
        state.insuranceFund = event.args.balance;
        break;
      default:
        // PriceUsed, Liquidated, Absorbed, ownership: what happened, not state.
        break;
    }
  }
  return state;
}

export interface FeedAnswer {
  readonly roundId: bigint;
  readonly answer: bigint;
  readonly updatedAt: bigint;
}

/** The newest `AnswerUpdated` of each feed among these logs, by feed address. */
export function latestFeedAnswers(logs: readonly Log[]): Map<Address, FeedAnswer> {
  const answers = new Map<Address, FeedAnswer>();
  for (const event of parseEventLogs({ abi: marketPriceFeedAbi, eventName: 'AnswerUpdated', logs: [...logs].sort(byChainOrder) })) {
    answers.set(getAddress(event.address), { roundId: event.args.roundId, answer: event.args.current, updatedAt: event.args.updatedAt });
  }
  return answers;
}

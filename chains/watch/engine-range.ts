import { getAddress, isAddressEqual, parseEventLogs, type Address, type Hex, type Log } from 'viem';
import { marginEngineAbi } from '../contracts/out/MarginEngine.js';
import { marketPriceFeedAbi } from '../contracts/out/MarketPriceFeed.js';

/** MarginEngine.CollateralReason.BadDebtCover: the insurance fund paying an account's negative collateral. */
const BAD_DEBT_COVER = 7;

/** A feed's round as its `AnswerUpdated` event tells it (Chainlink's event, so live feeds read the same). */
export interface FeedRound {
  readonly feed: Address;
  readonly roundId: bigint;
  readonly answer: bigint;
  readonly updatedAt: bigint;
}

/** A market's (re)configuration: what the risk math takes from it. */
export interface MarketConfigured {
  readonly market: Hex;
  readonly feed: Address;
  readonly maintenanceMarginFraction: bigint;
  readonly maxPriceAge: bigint;
}

/** One followed range of a margin engine and its feeds, sorted out for the account index. */
export interface EngineRange {
  /** The engine's own logs, for `applyEngineLogs`. */
  readonly engineLogs: readonly Log[];
  /** Every round of the followed feeds, in chain order (each one moves the volatility estimate). */
  readonly rounds: readonly FeedRound[];
  /** Accounts whose collateral, positions or consent the engine logs change. */
  readonly touched: ReadonlySet<Address>;
  readonly marketsConfigured: readonly MarketConfigured[];
  /** Collateral the insurance fund put into each account (bad debt the protocol took). */
  readonly badDebtCovered: ReadonlyMap<Address, bigint>;
  readonly backstop: Address | undefined;
}

/** Splits a range's logs (any order) into what the engine and the feeds said. */
export function engineRange(params: { engine: Address; logs: readonly Log[] }): EngineRange {
  const engineLogs = params.logs.filter((log) => isAddressEqual(log.address, params.engine));
  const feedLogs = params.logs.filter((log) => !isAddressEqual(log.address, params.engine));
  const touched = new Set<Address>();
  const marketsConfigured: MarketConfigured[] = [];
  const badDebtCovered = new Map<Address, bigint>();
  let backstop: Address | undefined;
  for (const event of parseEventLogs({ abi: marginEngineAbi, logs: engineLogs })) {
    switch (event.eventName) {
      case 'CollateralChanged':
        touched.add(event.args.account);
        if (event.args.reason === BAD_DEBT_COVER) {
          badDebtCovered.set(event.args.account, (badDebtCovered.get(event.args.account) ?? 0n) + event.args.delta);
        }
        break;
      case 'PositionChanged':
      case 'CrossChainConsentSet':
        touched.add(event.args.account);
        break;
      case 'MarketConfigured':
        marketsConfigured.push({
          market: event.args.market,
          feed: event.args.feed,
          maintenanceMarginFraction: event.args.maintenanceMarginFraction,
          maxPriceAge: event.args.maxPriceAge,
        });
        break;
      case 'BackstopSet':
        backstop = event.args.backstop;
        break;
      default:
        break;
    }
  }
  const rounds = parseEventLogs({ abi: marketPriceFeedAbi, eventName: 'AnswerUpdated', logs: [...feedLogs] })
    .sort((a, b) => (a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1))
    .map((event) => ({ feed: getAddress(event.address), roundId: event.args.roundId, answer: event.args.current, updatedAt: event.args.updatedAt }));
  return { engineLogs, rounds, touched, marketsConfigured, badDebtCovered, backstop };
}

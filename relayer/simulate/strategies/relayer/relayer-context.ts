import { usdOf, type PolicyDecision, type PolicySnapshot } from '../../../policy/index.js';
import { accountLevels, type AccountLevels } from '../../execution/account-levels.js';
import type { EngineAuctions } from '../../execution/engine-auction.js';
import type { RiskBridge } from '../../risk-bridge.js';
import type { RunState } from '../../strategy.js';
import type { ArrivalQueue } from './arrivals.js';

/** The decision core's entry point; injected, so a test can run the strategy on another decision. */
export type DecideFn = (snapshot: PolicySnapshot) => PolicyDecision;

/** What the relayer strategy's parts share during a run. */
export interface RelayerContext {
  readonly state: RunState;
  readonly bridge: RiskBridge;
  readonly arrivals: ArrivalQueue;
  /** The engine's open auctions and the world's takers. */
  readonly auctions: EngineAuctions;
  /** Market index by the market id the snapshot names. */
  readonly marketIndex: ReadonlyMap<string, number>;
}

/**
 * E, MM and IM as the margin engine computes them (integer base units, equity rounded down,
 * requirements up: the risk module's arithmetic), in USD: what the engine's rules check in the
 * simulated world, so the world and the core never disagree by a rounding unit on whether an
 * account is below a level.
 */
export function engineLevels(context: Pick<RelayerContext, 'state' | 'bridge'>, account: number): AccountLevels {
  const { state, bridge } = context;
  const assessment = bridge.assess({ book: state.book, account, time: state.world.time });
  const maintenance = usdOf(assessment.maintenance);
  // Only a close's size depends on it, never whether one is allowed: the float buffer on the engine's MM.
  const floats = accountLevels(state, account);
  return { equity: usdOf(assessment.equity), maintenance, initial: usdOf(assessment.initial), closeLevel: maintenance + (floats.closeLevel - floats.maintenance) };
}

import type { RiskBridge } from '../../risk-bridge.js';
import type { RunState } from '../../strategy.js';
import type { ArrivalQueue } from './arrivals.js';

/** What the relayer strategy's parts share during a run. */
export interface RelayerContext {
  readonly state: RunState;
  readonly bridge: RiskBridge;
  readonly arrivals: ArrivalQueue;
  /** Per account, the relief (USD of required amount) sent and not yet arrived. */
  readonly pending: Float64Array;
}

/** m_eff * (1 + target) per market of the account's home chain, now. */
export function targetRatesOf(context: RelayerContext, account: number): Float64Array {
  return context.bridge.rates(context.state.book.home[account] ?? 0, context.state.world.time).target;
}

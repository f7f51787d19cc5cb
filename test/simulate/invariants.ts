/**
 * Accounting identities and rules every run must satisfy, stated over a recorded run:
 * - per account, to the cent: what it holds at the end (home collateral, surplus elsewhere,
 *   surplus in flight) = what it started with + PnL at the oracle of what was closed or absorbed
 *   - slippage - penalties + the bad debt written off for it;
 * - the run's totals equal the sums of its events;
 * - nothing was liquidated at or above the level that allowed it (maintenance for a close,
 *   initial margin for a backstop absorption), nor beyond the size the engine's rule allowed at
 *   that moment (the close restoring maintenance, the absorption restoring initial margin);
 * - an auction was taken only at a price beating the pool's by the takers' margin;
 * - the backstop absorbed only when a liquidity leg landed (`absorbUpTo`): no instant takeover;
 * - the relayer never planned to move more than the required amount less what was in flight.
 */
import type { AccountBook } from '../../relayer/simulate/book.js';
import type { StrategyRun } from '../../relayer/simulate/engine.js';
import { remoteTotal } from '../../relayer/simulate/book.js';

const CENT = 0.01;

export interface Violation {
  readonly rule: string;
  readonly detail: string;
}

export function violations(run: StrategyRun, population: AccountBook): Violation[] {
  const events = run.state.tally.events;
  if (events === undefined) return [{ rule: 'recorded', detail: 'the run did not record events' }];
  const found: Violation[] = [];
  const { book, tally } = run.state;
  const change = new Float64Array(book.count);
  let slippage = 0;
  let penalties = 0;
  let writeOffs = 0;
  for (const event of events.liquidations) {
    change[event.account] = (change[event.account] ?? 0) + event.pnlAtOracle - event.slippage - event.penalty + event.writeOff;
    slippage += event.slippage;
    penalties += event.penalty;
    writeOffs += event.writeOff;
    if (!(event.equityBefore < event.permittedBelow)) {
      found.push({ rule: 'liquidated while healthy', detail: `${event.kind}/${event.reason} of account ${event.account} at step ${event.step}: equity ${event.equityBefore} >= ${event.permittedBelow}` });
    }
    if (event.limitNotional !== undefined && event.notional > event.limitNotional * (1 + 1e-9) + 1e-9) {
      found.push({ rule: 'beyond the engine cap', detail: `${event.kind}/${event.reason} of account ${event.account} at step ${event.step}: ${event.notional} > ${event.limitNotional}` });
    }
    const auction = event.auction;
    const margin = run.state.scenario.impact.auctionTakerMargin;
    if (auction && (auction.long ? auction.price > auction.poolPrice * (1 - margin) * (1 + 1e-12) : auction.price < auction.poolPrice * (1 + margin) * (1 - 1e-12))) {
      found.push({ rule: 'take beyond the takers\' margin', detail: `auction take of account ${event.account} at step ${event.step}: price ${auction.price} against pool ${auction.poolPrice}` });
    }
    if (event.kind === 'absorb' && event.reason !== 'arrival') {
      found.push({ rule: 'instant takeover', detail: `absorption of account ${event.account} at step ${event.step} without a liquidity leg landing (${event.reason})` });
    }
  }
  for (let account = 0; account < book.count; account++) {
    const before = (population.collateral[account] ?? 0) + remoteTotal(population, account);
    const after = (book.collateral[account] ?? 0) + remoteTotal(book, account) + (run.state.inFlightCollateral[account] ?? 0);
    const gap = after - (before + (change[account] ?? 0));
    if (Math.abs(gap) > CENT) found.push({ rule: 'conservation', detail: `account ${account} is off by ${gap} USD` });
  }
  if (Math.abs(tally.penalties - penalties) > CENT) found.push({ rule: 'totals', detail: `penalties ${tally.penalties} != ${penalties}` });
  if (Math.abs(tally.badDebt - writeOffs) > CENT) found.push({ rule: 'totals', detail: `bad debt ${tally.badDebt} != ${writeOffs}` });
  // The backstop's own sales are in no account: what the tally counts beyond the accounts' is exactly them.
  if (Math.abs(tally.slippage - tally.unwinding - slippage) > CENT) found.push({ rule: 'totals', detail: `slippage ${tally.slippage} - unwinding ${tally.unwinding} != ${slippage}` });
  for (const plan of events.plans) {
    if (plan.kind !== 'plan') continue;
    const moved = plan.allocations.reduce((sum, allocation) => sum + allocation.amount, 0);
    if (moved > plan.required - plan.inFlight + 1e-6) found.push({ rule: 'more than required', detail: `account ${plan.account} at step ${plan.step}: ${moved} > ${plan.required} - ${plan.inFlight}` });
  }
  return found;
}

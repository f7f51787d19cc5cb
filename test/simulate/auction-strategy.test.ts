import { describe, expect, it } from 'vitest';
import { decide, type PolicySnapshot } from '../../relayer/policy/index.js';
import { bookFromAccounts, type AccountSpec } from '../../relayer/simulate/book.js';
import type { ScenarioInput } from '../../relayer/simulate/scenario/schema.js';
import { eventsOf, runAccounts, tinyScenario } from './fixtures.js';
import { violations } from './invariants.js';

// The tiny scenario (ETH at $1,000, maintenance 5%, initial 10%, penalty 2%) with a thin home
// pool of $20,000 (20 ETH) and an oracle that does not follow it (deviation 50%), so closes into
// it slip but do not move the account's marks; beta keeps its $1,000,000 pool: the market's
// deepest venue, where auction takers hedge. The auction starts at the oracle and falls 1% a
// minute. One account: 10 ETH bought at 1,060 on 1,000 of collateral, so at $1,000 E = 400 <
// MM = 500. The core expects takers to want 1% below the pool: a fill after a step at 990, where
// each USD of notional gains 5% - (1% + 2%) of maintenance, so it auctions 100 / 0.02 = 5,000.
const ACCOUNT: AccountSpec = { home: 0, collateral: 1000, positions: [{ market: 0, size: 10, entry: 1060 }] };
const AUCTION = { buf: 1, cut: 0.99, cusp: 0.5, stepSeconds: 60, tailSeconds: 3600 };
/** The deep venue's slot (one market: slot = chain). */
const VENUE_SLOT = 1;

const thinPool = (edit: (input: ScenarioInput) => void = () => undefined) =>
  tinyScenario((input) => {
    input.durationSeconds = 900;
    const alpha = input.chains[0];
    if (alpha) alpha.pools = { 'ETH-USD': { depthUsd: 20_000, fee: 0 } };
    const market = input.markets[0];
    if (market) {
      market.auction = AUCTION;
      market.oracle = { deviation: 0.5, heartbeatSeconds: 3600 };
    }
    edit(input);
  });

const flat = (steps: number) => Array.from({ length: steps + 1 }, () => 1000);

/** The decision core, recording every snapshot it is given. */
function recordingDecide(): { snapshots: PolicySnapshot[]; decide: typeof decide } {
  const snapshots: PolicySnapshot[] = [];
  return { snapshots, decide: (snapshot) => (snapshots.push(snapshot), decide(snapshot)) };
}

describe('the relayer with a market auction', () => {
  it('starts an auction where a close would slip; takers fill the lot below the deep pool by their margin and hedge there', () => {
    const recorder = recordingDecide();
    const run = runAccounts({ scenario: thinPool(), accounts: [ACCOUNT], prices: flat(15), strategy: 'relayer', decide: recorder.decide });
    const events = eventsOf(run);
    expect(recorder.snapshots[0]?.positions[0]?.auction).toEqual(AUCTION);
    expect(recorder.snapshots[0]?.terms.auctionTakerMargin).toBe(0.01);
    const started = events.plans.find((plan) => plan.allocations.some((allocation) => allocation.id === 'auction:alpha'));
    expect(started).toMatchObject({ step: 1, kind: 'home' });
    const takes = events.liquidations.filter((event) => event.kind === 'auction');
    expect(takes).toHaveLength(1);
    const [take] = takes;
    if (!take?.auction) throw new Error('no take');
    // Not in the step it started: the price must first fall below the pool's less the margin.
    expect(take.step).toBeGreaterThan(1);
    expect(take.auction.long).toBe(true);
    expect(take.auction.price).toBeLessThanOrEqual(take.auction.poolPrice * 0.99 * (1 + 1e-12));
    expect(take.notional).toBeCloseTo(5000, 4);
    expect(take.slippage).toBeCloseTo(5 * (1000 - take.auction.price), 6);
    expect(take.penalty).toBeCloseTo(100, 6);
    // The taker sold the lot into the deep pool, not the home one; the home pool moved only by closes.
    expect(run.state.tally.poolPrices[VENUE_SLOT]?.[take.step - 1]).toBeCloseTo(1000, 6);
    expect(run.state.tally.poolPrices[VENUE_SLOT]?.[take.step]).toBeLessThan(1000 * 0.995);
    expect(events.liquidations.filter((event) => event.kind === 'close').every((event) => event.slippage > 0)).toBe(true);
    expect(run.state.book.positionSize[0]).toBeLessThan(5 + 1e-9);
    expect(violations(run, bookFromAccounts([ACCOUNT]))).toEqual([]);
    // While the auction was open the core was offered no second one (the engine refuses it).
    const whileOpen = recorder.snapshots.filter((snapshot) => snapshot.inFlight.some((leg) => leg.kind === 'auction'));
    expect(whileOpen.length).toBeGreaterThan(0);
    expect(whileOpen.every((snapshot) => snapshot.positions.every((position) => position.auction === undefined))).toBe(true);
  });

  it('is deterministic: the same world gives the same takes', () => {
    const once = () => eventsOf(runAccounts({ scenario: thinPool(), accounts: [ACCOUNT], prices: flat(15), strategy: 'relayer' })).liquidations;
    expect(once()).toEqual(once());
  });

  it("cuts each step's takes and closes to the market's per-block cap", () => {
    const run = runAccounts({
      scenario: thinPool((input) => {
        const market = input.markets[0];
        if (market) market.maxNotionalPerBlockUsd = 1500;
      }),
      accounts: [ACCOUNT],
      prices: flat(15),
      strategy: 'relayer',
    });
    const events = eventsOf(run);
    const byStep = new Map<number, number>();
    for (const event of events.liquidations) byStep.set(event.step, (byStep.get(event.step) ?? 0) + event.notional);
    for (const notional of byStep.values()) expect(notional).toBeLessThanOrEqual(1500 * (1 + 1e-12));
    const takes = events.liquidations.filter((event) => event.kind === 'auction');
    expect(takes.length).toBeGreaterThan(1);
    // The lot was cut to what the cap left; the rest was taken in later blocks.
    expect(takes[0]?.notional).toBeLessThan(1500 + 1e-9);
    expect(violations(run, bookFromAccounts([ACCOUNT]))).toEqual([]);
  });

  it('when takers ask more than the relayer expects, the lot goes unfilled, its leg stops counting at its deadline, and closes go on', () => {
    const recorder = recordingDecide();
    const run = runAccounts({
      scenario: thinPool((input) => {
        // The world's takers want 40% below the pool; the cusp stops the price at 70% of the oracle's.
        input.impact.auctionTakerMargin = 0.4;
        input.strategies = { relayer: { ...input.strategies?.relayer, legDeadlineSeconds: 300 } };
        const market = input.markets[0];
        if (market) market.auction = { ...AUCTION, cusp: 0.7, tailSeconds: 240 };
      }),
      accounts: [ACCOUNT],
      prices: flat(15),
      strategy: 'relayer',
      decide: recorder.decide,
    });
    const events = eventsOf(run);
    expect(events.liquidations.filter((event) => event.kind === 'auction')).toEqual([]);
    const auctionPlans = events.plans.filter((plan) => plan.allocations.some((allocation) => allocation.id === 'auction:alpha'));
    expect(auctionPlans.map((plan) => plan.step)).toEqual([1]);
    // In flight (due now, as the node reports it) until the leg's deadline, 300 s after step 1.
    const inFlight = (step: number) => events.plans.filter((plan) => plan.step === step).map((plan) => plan.inFlight);
    expect(inFlight(2).every((amount) => amount > 0)).toBe(true);
    expect(inFlight(8).every((amount) => amount === 0)).toBe(true);
    // The engine still holds the (reset) auction: the core is offered no second one, and closes locally.
    expect(recorder.snapshots.slice(1).every((snapshot) => snapshot.positions.every((position) => position.auction === undefined))).toBe(true);
    expect(events.liquidations.some((event) => event.kind === 'close' && event.step >= 8)).toBe(true);
    expect(violations(run, bookFromAccounts([ACCOUNT]))).toEqual([]);
  });
});

describe('the per-block cap on blunt liquidation', () => {
  it('holds full to the cap each step: the rest waits for the next block', () => {
    const scenario = tinyScenario((input) => {
      input.durationSeconds = 600;
      const market = input.markets[0];
      if (market) market.maxNotionalPerBlockUsd = 4000;
    });
    const run = runAccounts({ scenario, accounts: [ACCOUNT], prices: flat(10), strategy: 'full' });
    const events = eventsOf(run);
    // 4 of the 10 ETH go at step 1, 4 more at step 2; what is left is then above maintenance.
    expect(events.liquidations.map((event) => event.step)).toEqual([1, 2]);
    for (const event of events.liquidations) expect(event.notional).toBeCloseTo(4000, 6);
    expect(run.state.book.positionSize[0]).toBeLessThan(6);
    expect(run.state.book.positionSize[0]).toBeGreaterThan(0);
  });
});

/**
 * The margin engine's limits and breaker on a real anvil chain (dYdX v4's per-block limits,
 * Maker's `Hole`): the notional liquidated per market per block, the insurance fund's loss per
 * block, the backstop's unwinding within a pool-impact budget per block, and the guardian's pause.
 * "In one block" is literal: mining is stopped, the transactions sent, one block mined.
 *
 * The underwater accounts are long 3 ETH opened at 3000 with 1000 of collateral, marked at 2800:
 * E = 400 < MM = 420 (deficit 20) < IM = 840.
 */
import { parseEventLogs, type Address, type Hex, type TransactionReceipt } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { marginEngineAbi } from '../../chains/contracts/out/MarginEngine.js';
import { ammClose, unwindLeft, unwindQuote } from '../../chains/protocol/amm.js';
import { marketId } from '../../chains/protocol/markets.js';
import { fraction, price, size, usd, VALUE_SCALE } from '../../chains/protocol/units.js';
import type { Signer } from '../../chains/signer.js';
import { BTC, BTC_SPEC, ETH, ETH_SPEC, startEngineFixture, type EngineFixture } from './engine-fixture.js';
import { expectLogsRebuildViews, expectRevert } from './support.js';

const MAX = 2n ** 256n - 1n;
const P = price('2800');
const BPS = 10_000n;

let f: EngineFixture;
let owner: Signer;
let keeper: Signer;
let guardian: Signer;

beforeAll(async () => {
  f = await startEngineFixture();
  ({ deployer: owner, keeper } = f);
  guardian = f.trader(11);
  await f.fund(keeper, usd('10000'));
  const auction = { buf: fraction('1.02'), cut: fraction('0.99'), cusp: fraction('0.9'), step: 60n, tail: 1_800n };
  await owner.write({ address: f.engine, abi: marginEngineAbi, functionName: 'setAuctionConfig', args: [ETH, auction] });
});

afterAll(async () => {
  await f?.stop();
});

const label = 'MarginEngine';
const setLimits = (market: Hex, maxNotionalPerBlock: bigint, unwindImpactBps: bigint, caller = owner) =>
  caller.write({ address: f.engine, abi: marginEngineAbi, functionName: 'setMarketLimits', args: [market, { maxNotionalPerBlock, unwindImpactBps }], label });
const setInsuranceCap = (cap: bigint, caller = owner) => caller.write({ address: f.engine, abi: marginEngineAbi, functionName: 'setInsuranceLossCap', args: [cap], label });
const unwind = (caller: Signer, market: Hex, amount: bigint, limitPrice = 0n) =>
  caller.write({ address: f.engine, abi: marginEngineAbi, functionName: 'unwindBackstop', args: [market, amount, limitPrice], label });
const limitsAt = (market: Hex, receipt: TransactionReceipt) =>
  f.deployer.public.readContract({ address: f.engine, abi: marginEngineAbi, functionName: 'blockLimits', args: [market], blockNumber: receipt.blockNumber });

const liquidation = (target: Address, amount: bigint) => f.sendAs(keeper, { functionName: 'liquidate', args: [target, ETH, amount] });
const eventsOf = <const name extends 'Liquidated' | 'Absorbed' | 'AuctionTaken' | 'BackstopUnwound' | 'BadDebtCoverDeferred'>(receipt: TransactionReceipt, eventName: name) =>
  parseEventLogs({ abi: marginEngineAbi, eventName, logs: receipt.logs });

describe('limits', () => {
  it('default to no caps and an unwind budget of 100 bps, and refuse bad values by name', async () => {
    const limits = await f.read.limits(ETH);
    // With 100 bps and depth L = 2000 ETH the pool may take L (1/sqrt(0.99) - 1) = 10.0756 ETH
    // sold, or give L (1 - 1/sqrt(1.01)) = 9.9256 ETH bought back, per block.
    expect(limits).toEqual({
      maxNotionalPerBlock: MAX,
      notionalLeft: MAX,
      maxInsuranceLossPerBlock: MAX,
      insuranceLossLeft: MAX,
      unwindImpactBps: 100n,
      ...unwindLeftOf(ETH_SPEC.ammDepth, 100n),
      paused: false,
    });
    expect(limits.unwindSellLeft / 10n ** 14n).toBe(100_756n);
    expect(limits.unwindBuyLeft / 10n ** 14n).toBe(99_256n);

    await expectRevert(setLimits(ETH, 0n, 100n), 'InvalidLiquidationCap');
    await expectRevert(setLimits(ETH, MAX, 0n), 'InvalidUnwindImpact');
    await expectRevert(setLimits(ETH, MAX, BPS), 'InvalidUnwindImpact');
    await expectRevert(setLimits(marketId('DOGE-USD'), MAX, 100n), 'UnknownMarket');
    await expectRevert(setInsuranceCap(0n), 'InvalidInsuranceLossCap');
    await expectRevert(setLimits(ETH, MAX, 100n, f.stranger), 'OwnableUnauthorizedAccount');
    await expectRevert(setInsuranceCap(MAX, f.stranger), 'OwnableUnauthorizedAccount');
    await expectRevert(f.stranger.write({ address: f.engine, abi: marginEngineAbi, functionName: 'setGuardian', args: [f.stranger.address] }), 'OwnableUnauthorizedAccount');
    const receipt = await setLimits(ETH, usd('500'), 100n);
    expect(parseEventLogs({ abi: marginEngineAbi, eventName: 'MarketLimitsSet', logs: receipt.logs })[0]?.args).toEqual({ market: ETH, maxNotionalPerBlock: usd('500'), unwindImpactBps: 100n });
  });
});

describe('the per-block notional cap', () => {
  // The cap is 500 USD per block in ETH (set above): at 2800, 500 / 2800 = 0.178571428571428571 ETH.
  const capSize = (usd('500') * VALUE_SCALE) / P;

  it('cuts maxLiquidationSize to it and refuses a liquidation beyond it, by name', async () => {
    const account = await f.underwaterLong(0);
    expect(capSize).toBe(178_571_428_571_428_571n);
    // Restoring maintenance would need about 20 / (2800 x 3%) = 0.24 ETH: the cap binds.
    expect(await f.read.maxLiquidation(account, ETH)).toBe(capSize);
    await expect(f.liquidateAs(keeper, account, ETH, capSize + 1n)).rejects.toThrow(`LiquidationCapExceeded("${ETH}", ${usd('500') + 1n}, ${usd('500')})`);
    const receipt = await f.liquidateAs(keeper, account, ETH, capSize);
    expect(eventsOf(receipt, 'Liquidated')[0]?.args.size).toBe(capSize);
    // That block has nothing left; the next one has the whole cap again.
    expect(await limitsAt(ETH, receipt)).toMatchObject({ maxNotionalPerBlock: usd('500'), notionalLeft: 0n });
    expect((await f.read.limits(ETH)).maxNotionalPerBlock).toBe(usd('500'));
  });

  it('counts liquidations, absorptions and auction takes of one block together', async () => {
    const [a, b, c, d] = [await f.underwaterLong(1), await f.underwaterLong(2), await f.underwaterLong(3), await f.underwaterLong(4)];
    await f.keeper.write({ address: f.engine, abi: marginEngineAbi, functionName: 'startAuction', args: [d, ETH, size('1')], label });

    // 0.1 ETH = 280 USD, then another 280 would exceed the 220 left.
    const [first, second] = await f.inOneBlock([liquidation(a, size('0.1')), liquidation(b, size('0.1'))]);
    expect(first?.error).toBeUndefined();
    expect(second?.error).toBe('LiquidationCapExceeded');
    expect(second?.receipt.blockNumber).toBe(first?.receipt.blockNumber);

    // Next block: 280 liquidated, then an absorption and a take get only what is left, 220 USD =
    // 220 / 2800 = 0.078571428571428571 ETH (restoring would take far more: 440 / 224 = 1.96 ETH
    // for the absorption, 20 / (2856 - 2716) = 0.143 ETH for the take at 2800 x 1.02).
    const rest = (usd('220') * VALUE_SCALE) / P;
    expect(rest).toBe(78_571_428_571_428_571n);
    const [liquidated, absorbed, taken] = await f.inOneBlock([
      liquidation(b, size('0.1')),
      f.sendAs(f.backstop, { functionName: 'absorbUpTo', args: [c, ETH, size('1')] }),
      f.sendAs(keeper, { functionName: 'take', args: [d, ETH, size('1'), MAX] }),
    ]);
    expect([liquidated?.error, absorbed?.error]).toEqual([undefined, undefined]);
    expect(eventsOf(absorbed?.receipt as TransactionReceipt, 'Absorbed')[0]?.args.size).toBe(rest);
    // The absorption used the rest: the take is refused.
    expect(taken?.error).toBe('LiquidationCapExceeded');

    const [partOfCap, take] = await f.inOneBlock([liquidation(a, size('0.1')), f.sendAs(keeper, { functionName: 'take', args: [d, ETH, size('1'), MAX] })]);
    expect([partOfCap?.error, take?.error]).toEqual([undefined, undefined]);
    expect(eventsOf(take?.receipt as TransactionReceipt, 'AuctionTaken')[0]?.args.size).toBe(rest);
  });
});

describe('the insurance fund’s loss per block', () => {
  it('is capped: the rest of a bad debt is deferred, covered by coverBadDebt in later blocks, the excess refused', async () => {
    await setLimits(ETH, MAX, 100n);
    await setInsuranceCap(usd('30'));
    // At 2650 the account is underwater (E = 1000 - 3 x 350 = -50): all 3 ETH go through the AMM.
    const account = await f.underwaterLong(5, price('2650'));
    expect(await f.read.maxLiquidation(account, ETH)).toBe(size('3'));
    const insuranceBefore = await f.read.insurance();
    const receipt = await f.liquidateAs(keeper, account, ETH, size('3'));
    const close = ammClose({ amount: size('3'), long: true, price: price('2650'), entryPrice: price('3000'), depth: ETH_SPEC.ammDepth });
    const penalty = usd('159'); // 3 x 2650 x 2%
    const debt = -(usd('1000') + close.realizedPnl - penalty);
    expect(debt).toBeGreaterThan(usd('200'));
    // 30 covered now, the rest deferred.
    expect(eventsOf(receipt, 'BadDebtCoverDeferred')[0]?.args).toEqual({ account, uncovered: debt - usd('30') });
    expect(await f.read.collateral(account)).toBe(-debt + usd('30'));
    expect(await f.read.insurance()).toBe(insuranceBefore + penalty / 2n - usd('30'));
    expect(await limitsAt(ETH, receipt)).toMatchObject({ maxInsuranceLossPerBlock: usd('30'), insuranceLossLeft: 0n });

    // Two covers in one block: the first covers 30 more, the second is refused.
    const cover = f.sendAs(f.stranger, { functionName: 'coverBadDebt', args: [account] });
    const [first, second] = await f.inOneBlock([cover, cover]);
    expect([first?.error, second?.error]).toEqual([undefined, 'InsuranceLossCapExceeded']);
    expect(await f.read.collateral(account)).toBe(-debt + usd('60'));
    await expectRevert(f.stranger.write({ address: f.engine, abi: marginEngineAbi, functionName: 'coverBadDebt', args: [keeper.address] }), 'NoBadDebt');
    await setInsuranceCap(MAX);
  });
});

describe('backstop unwinding', () => {
  let long: bigint;

  it('is the backstop’s alone, on its position’s side, within its limit price', async () => {
    // A long of 30 ETH from 3000 with 10000 (IM 9000), marked at 2900: E 7000 < IM 8700.
    await f.setPrice(f.ethFeed, price('3000'));
    const account = await f.openAccount(6, usd('10000'), ETH, size('30'));
    await f.setPrice(f.ethFeed, price('2900'));
    long = await f.read.maxAbsorb(account.address, ETH);
    await f.absorbAs(f.backstop, account.address, ETH, long);
    expect(long).toBeGreaterThan(size('7'));
    await expectRevert(unwind(f.stranger, ETH, size('0.1')), 'NotBackstop');
    await expectRevert(unwind(f.backstop, ETH, size('-0.1')), 'SizeNotOnPosition');
    // Selling 0.1 of a pool of 2000 at 2900 fetches 2900 x 2000 / 2000.1 = 2899.855 on average.
    await expectRevert(unwind(f.backstop, ETH, size('0.1'), price('2899.9')), 'UnwindPriceBeyondLimit');
  });

  it('never moves the pool past the budget in one block, and continues in the next', async () => {
    await setLimits(ETH, MAX, 10n); // 0.1% per block
    const L = ETH_SPEC.ammDepth;
    const P2900 = price('2900');
    // L (1/sqrt(0.999) - 1) = 2000 x 0.00050038 = 1.00075 ETH may be sold per block.
    const held = await f.read.position(f.backstop.address, ETH);
    const { unwindSellLeft: budget } = await f.read.limits(ETH);
    expect(budget).toBe(unwindLeftOf(L, 10n).unwindSellLeft);
    expect(budget / 10n ** 13n).toBe(100_075n);
    await expect(unwind(f.backstop, ETH, budget + 1n)).rejects.toThrow(`UnwindImpactExceeded("${ETH}", ${budget + 1n}, ${budget})`);

    const half = budget / 2n;
    const sell = (amount: bigint) => f.sendAs(f.backstop, { functionName: 'unwindBackstop', args: [ETH, amount, 0n] });
    const [first, second, third] = await f.inOneBlock([sell(half), sell(budget - half), sell(1n)]);
    expect([first?.error, second?.error, third?.error]).toEqual([undefined, undefined, 'UnwindImpactExceeded']);
    const [one, two] = [first, second].map((sent) => eventsOf(sent?.receipt as TransactionReceipt, 'BackstopUnwound')[0]?.args);
    // The second sale continues down the curve the first left: k = P L^2 and base L + half, so
    // it fetches k s / ((L + half) (L + budget)), less per unit than the first.
    const q1 = unwindQuote({ depth: L, flow: 0n, size: half, price: P2900 });
    const q2 = unwindQuote({ depth: L, flow: half, size: budget - half, price: P2900 });
    expect(q2.quote).toBe((((budget - half) * P2900 * L) / (L + half)) * L / (L + budget));
    expect([one?.proceeds, two?.proceeds]).toEqual([q1.quote / VALUE_SCALE, q2.quote / VALUE_SCALE]);
    expect([one?.executionPrice, two?.executionPrice]).toEqual([q1.quote / half, q2.quote / (budget - half)]);
    expect(two?.executionPrice).toBeLessThan(one?.executionPrice ?? 0n);
    // The pool after the block: P L^2 / (L + budget)^2, no further than 0.1% below the oracle
    // (exactly, before the price's own rounding down).
    expect(two?.poolPrice).toBe(q2.poolPrice);
    expect(two?.poolPrice).toBe((((P2900 * L) / (L + budget)) * L) / (L + budget));
    expect(L * L * BPS >= (BPS - 10n) * (L + budget) ** 2n).toBe(true);
    expect(q2.poolPrice).toBeLessThan(P2900);

    // A new block starts from the oracle again: the whole budget once more, at the first sale's curve.
    const next = await unwind(f.backstop, ETH, budget);
    const event = eventsOf(next, 'BackstopUnwound')[0]?.args;
    expect(event?.proceeds).toBe(unwindQuote({ depth: L, flow: 0n, size: budget, price: P2900 }).quote / VALUE_SCALE);
    // The backstop books the proceeds against its entry (about the absorb price, 2900 x 98% = 2842).
    expect(event?.realizedPnl).toBe((unwindQuote({ depth: L, flow: 0n, size: budget, price: P2900 }).quote - budget * held.entryPrice) / VALUE_SCALE);
    expect(await f.read.position(f.backstop.address, ETH)).toEqual({ size: held.size - 2n * budget, entryPrice: held.entryPrice });
  });

  it('buys a short back within the budget the other way', async () => {
    await setLimits(BTC, MAX, 1n); // 0.01% per block
    // A short of 0.1 BTC from 60000 with 600 (IM 480), marked at 62000: E 400 < IM 496.
    const account = await f.openAccount(7, usd('600'), BTC, size('-0.1'));
    await f.setPrice(f.btcFeed, price('62000'));
    const short = await f.read.maxAbsorb(account.address, BTC);
    await f.absorbAs(f.backstop, account.address, BTC, short);
    // L (1 - 1/sqrt(1.0001)) = 100 x 0.0000499963 = 0.00499963 BTC may be bought back per block.
    const { unwindBuyLeft: budget } = await f.read.limits(BTC);
    expect(budget).toBe(unwindLeftOf(BTC_SPEC.ammDepth, 1n).unwindBuyLeft);
    expect(budget / 10n ** 12n).toBe(4_999n);
    expect(-short).toBeGreaterThan(budget);
    await expect(unwind(f.backstop, BTC, -budget - 1n, MAX)).rejects.toThrow(`UnwindImpactExceeded("${BTC}", ${-budget - 1n}, ${budget})`);
    const receipt = await unwind(f.backstop, BTC, -budget, MAX);
    const event = eventsOf(receipt, 'BackstopUnwound')[0]?.args;
    const L = BTC_SPEC.ammDepth;
    // Buying back lifts the pool: P L^2 / (L - budget)^2, at most 0.01% above the oracle.
    expect(event?.poolPrice).toBe(unwindQuote({ depth: L, flow: 0n, size: -budget, price: price('62000') }).poolPrice);
    expect(L * L * (BPS + 1n) >= BPS * (L - budget) ** 2n).toBe(true);
    expect(L * L * BPS <= (BPS + 1n) * (L - budget) ** 2n).toBe(true);
    expect(event?.slippage).toBeGreaterThan(0n);
    await f.setPrice(f.btcFeed, BTC_SPEC.initialPrice);
  });
});

describe('the pause', () => {
  it('is the guardian’s or the owner’s to switch', async () => {
    const receipt = await owner.write({ address: f.engine, abi: marginEngineAbi, functionName: 'setGuardian', args: [guardian.address], label });
    expect(parseEventLogs({ abi: marginEngineAbi, eventName: 'GuardianSet', logs: receipt.logs })[0]?.args).toEqual({ guardian: guardian.address });
    await expectRevert(setPaused(f.stranger, true), 'NotGuardian');
    const paused = await setPaused(guardian, true);
    expect(parseEventLogs({ abi: marginEngineAbi, eventName: 'PausedSet', logs: paused.logs })[0]?.args).toEqual({ paused: true, by: guardian.address });
    await setPaused(owner, false);
    await setPaused(owner, true);
    await setPaused(guardian, false);
    expect((await f.read.limits(ETH)).paused).toBe(false);
  });

  it('stops liquidations, absorptions, auctions, unwinds and bad-debt cover, but not deposits, withdrawals or trades', async () => {
    await setLimits(ETH, MAX, 100n);
    const account = await f.underwaterLong(8);
    const auctioned = await f.underwaterLong(9);
    await keeper.write({ address: f.engine, abi: marginEngineAbi, functionName: 'startAuction', args: [auctioned, ETH, size('1')], label });
    await setPaused(guardian, true);
    expect(await f.read.maxLiquidation(account, ETH)).toBe(0n);
    expect(await f.read.maxAbsorb(account, ETH)).toBe(0n);
    expect((await f.read.limits(ETH)).paused).toBe(true);

    const call = (caller: Signer, functionName: string, args: readonly unknown[]) =>
      caller.write({ address: f.engine, abi: marginEngineAbi, functionName, args, label } as unknown as Parameters<Signer['write']>[0]);
    await expectRevert(f.liquidateAs(keeper, account, ETH, size('0.1')), 'Paused');
    await expectRevert(f.absorbAs(f.backstop, account, ETH, size('0.1')), 'Paused');
    await expectRevert(call(f.backstop, 'absorbUpTo', [account, ETH, size('0.1')]), 'Paused');
    await expectRevert(call(keeper, 'startAuction', [account, ETH, size('0.1')]), 'Paused');
    await expectRevert(call(keeper, 'take', [auctioned, ETH, size('0.1'), MAX]), 'Paused');
    await expectRevert(call(keeper, 'redoAuction', [auctioned, ETH]), 'Paused');
    await expectRevert(unwind(f.backstop, ETH, size('0.1')), 'Paused');
    await expectRevert(call(f.stranger, 'coverBadDebt', [f.trader(5).address]), 'Paused');
    await expectRevert(call(f.vault, 'releaseMargin', [keeper.address, usd('1')]), 'Paused');

    // Deposits, withdrawals of free collateral and trades go on.
    const saver = f.trader(10);
    await f.fund(saver, usd('1000'));
    await saver.write({ address: f.engine, abi: marginEngineAbi, functionName: 'withdraw', args: [usd('400')], label });
    await f.tradeAs(saver, ETH, size('0.5'));
    expect(await f.read.account(saver.address)).toMatchObject({ collateral: usd('600'), positions: [expect.objectContaining({ size: size('0.5') })] });

    await setPaused(guardian, false);
    const max = await f.read.maxLiquidation(account, ETH);
    expect(max).toBeGreaterThan(0n);
    await f.liquidateAs(keeper, account, ETH, max);
  });
});

describe('limit events', () => {
  it('leave every account rebuildable from logs alone', async () => {
    expect(await expectLogsRebuildViews({ signer: f.deployer, engine: f.engine, feeds: [f.ethFeed, f.btcFeed] })).toBeGreaterThanOrEqual(10);
  });
});

function setPaused(caller: Signer, paused: boolean) {
  return caller.write({ address: f.engine, abi: marginEngineAbi, functionName: 'setPaused', args: [paused], label });
}

function unwindLeftOf(depth: bigint, impactBps: bigint) {
  const { sellLeft, buyLeft } = unwindLeft({ depth, impactBps, flow: 0n });
  return { unwindSellLeft: sellLeft, unwindBuyLeft: buyLeft };
}

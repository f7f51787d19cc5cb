/**
 * The margin engine's Dutch auction (Maker's clipper shape) on a real anvil chain: parameters
 * refused by name, a lot taken in part and in full at the stairstep price, a take cut to what
 * restores maintenance, resets at `tail` and at `cusp`, and the refusals: an account that
 * recovered, a take that would leave the account worse off, a taker without margin.
 *
 * Every account here is long 3 ETH opened at 3000 with 1000 of collateral (IM 900) and marked at
 * 2800: E = 1000 - 3 x 200 = 400 < MM = 3 x 2800 x 5% = 420, a deficit of 20.
 */
import { decodeEventLog, parseEventLogs, type Address, type GetEventArgs, type Hex, type TransactionReceipt } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { marginEngineAbi } from '../../chains/contracts/out/MarginEngine.js';
import { auctionPrice, rpow, type AuctionConfig } from '../../chains/protocol/auction.js';
import { ceilDiv, floorDiv, fraction, price, size, usd, VALUE_SCALE, WAD } from '../../chains/protocol/units.js';
import type { Signer } from '../../chains/signer.js';
import { ETH, ETH_SPEC, BTC, RESTORE_TOLERANCE, startEngineFixture, type EngineFixture } from './engine-fixture.js';
import { expectLogsRebuildViews, expectRevert } from './support.js';

/** Maker's stairstep, on a minute clock: 2% over the oracle, 1% off per minute. */
const AUCTION: AuctionConfig = { buf: fraction('1.02'), cut: fraction('0.99'), cusp: fraction('0.9'), step: 60n, tail: 1_800n };
const P = price('2800');
const TOP = price('2856'); // 2800 x 1.02
const END = { filled: 0, restored: 1, canceled: 2 } as const;
const MAX_PRICE = 2n ** 256n - 1n;

let f: EngineFixture;
let owner: Signer;
let keeper: Signer;

beforeAll(async () => {
  f = await startEngineFixture();
  ({ deployer: owner, keeper } = f);
  await configure(AUCTION);
  await f.fund(keeper, usd('10000'));
});

afterAll(async () => {
  await f?.stop();
});

const engineCall = { label: 'MarginEngine' } as const;
const configure = (config: AuctionConfig, market: Hex = ETH) =>
  owner.write({ address: f.engine, abi: marginEngineAbi, functionName: 'setAuctionConfig', args: [market, config], ...engineCall });
const start = (caller: Signer, account: Address, lot: bigint, market: Hex = ETH) =>
  caller.write({ address: f.engine, abi: marginEngineAbi, functionName: 'startAuction', args: [account, market, lot], ...engineCall });
const take = (caller: Signer, account: Address, maxSize: bigint, limitPrice: bigint) =>
  caller.write({ address: f.engine, abi: marginEngineAbi, functionName: 'take', args: [account, ETH, maxSize, limitPrice], ...engineCall });
const redo = (caller: Signer, account: Address) => caller.write({ address: f.engine, abi: marginEngineAbi, functionName: 'redoAuction', args: [account, ETH], ...engineCall });
const cancel = (caller: Signer, account: Address) =>
  caller.write({ address: f.engine, abi: marginEngineAbi, functionName: 'cancelAuction', args: [account, ETH], ...engineCall });

/** The first event of this name in a receipt (one per auction action). */
function eventOf<const name extends 'AuctionStarted' | 'AuctionTaken' | 'AuctionClosed' | 'AuctionReset'>(
  receipt: TransactionReceipt,
  eventName: name,
): GetEventArgs<typeof marginEngineAbi, name, { EnableUnion: false; IndexedOnly: false; Required: true }> {
  const [event] = parseEventLogs({ abi: marginEngineAbi, eventName, logs: receipt.logs });
  if (!event) throw new Error(`no ${eventName}`);
  return event.args as GetEventArgs<typeof marginEngineAbi, name, { EnableUnion: false; IndexedOnly: false; Required: true }>;
}

/** Starts an auction of `lot` and returns when it started (its `tic`). */
async function started(account: Address, lot: bigint): Promise<bigint> {
  return f.blockTime(await start(keeper, account, lot));
}

/** Moves the chain to the middle of step `k` of an auction started at `tic`. */
const toStep = (tic: bigint, k: bigint) => f.mineAt(tic + k * AUCTION.step + AUCTION.step / 2n);

/** The step of the auction a mined transaction saw. */
const stepOf = async (receipt: TransactionReceipt, tic: bigint, step = AUCTION.step) => ((await f.blockTime(receipt)) - tic) / step;

const surplusOf = async (account: Address) => {
  const view = await f.read.account(account);
  return view.equity - BigInt(view.maintenanceMargin);
};

describe('auction parameters', () => {
  it('are refused where none are set, by name', async () => {
    await expectRevert(start(keeper, f.trader(0).address, size('0.1'), BTC), 'AuctionsNotConfigured');
    expect(await f.deployer.public.readContract({ address: f.engine, abi: marginEngineAbi, functionName: 'auctionConfig', args: [BTC] })).toEqual({
      buf: 0n,
      cut: 0n,
      cusp: 0n,
      step: 0n,
      tail: 0n,
    });
  });

  it('are the owner’s to set, each validated by name', async () => {
    const set = (config: Partial<AuctionConfig>) => configure({ ...AUCTION, ...config }, BTC);
    await expectRevert(set({ buf: WAD - 1n }), 'InvalidAuctionBuf');
    await expectRevert(set({ cut: 0n }), 'InvalidAuctionCut');
    await expectRevert(set({ cut: WAD }), 'InvalidAuctionCut');
    await expectRevert(set({ cusp: 0n }), 'InvalidAuctionCusp');
    await expectRevert(set({ cusp: WAD + 1n }), 'InvalidAuctionCusp');
    await expectRevert(set({ step: 0n }), 'InvalidAuctionStep');
    await expectRevert(set({ tail: 0n }), 'InvalidAuctionTail');
    await expectRevert(
      f.stranger.write({ address: f.engine, abi: marginEngineAbi, functionName: 'setAuctionConfig', args: [BTC, AUCTION] }),
      'OwnableUnauthorizedAccount',
    );
    // The bounds themselves are fine: buf 1 (start at the oracle) and cusp 1 (reset after one step).
    const receipt = await set({ buf: WAD, cusp: WAD });
    const configured = parseEventLogs({ abi: marginEngineAbi, eventName: 'AuctionConfigured', logs: receipt.logs })[0]?.args;
    expect(configured).toEqual({ market: BTC, buf: WAD, cut: AUCTION.cut, cusp: WAD, step: AUCTION.step, tail: AUCTION.tail });
    expect(await f.deployer.public.readContract({ address: f.engine, abi: marginEngineAbi, functionName: 'auctionConfig', args: [ETH] })).toEqual(AUCTION);
  });
});

describe('an auction', () => {
  it('starts only below maintenance, on the position’s side, at oracle x buf, once at a time', async () => {
    await f.setPrice(f.ethFeed, price('3000'));
    const account = await f.openAccount(0, usd('1000'), ETH, size('3'));
    await expectRevert(start(keeper, account.address, size('0.15')), 'NotLiquidatable');
    await f.setPrice(f.ethFeed, P);
    await expectRevert(start(keeper, account.address, size('-0.15')), 'SizeNotOnPosition');
    await expectRevert(start(keeper, account.address, size('3.1')), 'SizeNotOnPosition');
    await expectRevert(start(keeper, f.backstop.address, size('1')), 'BackstopAccount');
    const receipt = await start(keeper, account.address, size('0.15'));
    const event = eventOf(receipt, 'AuctionStarted');
    expect(event).toEqual({ id: 1n, account: account.address, market: ETH, keeper: keeper.address, lot: size('0.15'), top: TOP, oraclePrice: P });
    await expectRevert(start(keeper, account.address, size('0.1')), 'AuctionActive');
    const view = await f.read.auction(account.address, ETH);
    expect(view).toMatchObject({ id: 1n, lot: size('0.15'), top: TOP, price: TOP, needsReset: false, startedAt: await f.blockTime(receipt) });
  });

  it('is taken in part, then in full, at the stairstep price; the taker takes the position over and needs margin for it', async () => {
    const account = f.trader(0).address;
    const tic = (await f.read.auction(account, ETH)).startedAt;
    const before = await f.read.account(account);
    const [keeperBefore, insuranceBefore] = [await f.read.collateral(keeper.address), await f.read.insurance()];

    await toStep(tic, 1n);
    // Step 1: 2856 x 0.99 = 2827.44.
    const x1 = price('2827.44');
    expect((await f.read.auction(account, ETH)).price).toBe(x1);
    await expectRevert(take(keeper, account, size('0.05'), x1 - 1n), 'AuctionPriceBeyondLimit');
    await expectRevert(take(f.trader(0), account, size('0.05'), x1), 'TakerIsAccount');
    await expectRevert(take(f.stranger, account, size('0.05'), x1), 'InsufficientMargin'); // no collateral for 0.05 ETH
    await expectRevert(take(keeper, account, size('-0.05'), x1), 'SizeNotOnPosition');

    const first = await take(keeper, account, size('0.05'), x1);
    expect(await stepOf(first, tic)).toBe(1n);
    // Penalty on the oracle notional: 0.05 x 2800 x 2% = 2.8, half to the taker.
    expect(eventOf(first, 'AuctionTaken')).toEqual({
      id: 1n,
      account,
      market: ETH,
      taker: keeper.address,
      size: size('0.05'),
      price: x1,
      oraclePrice: P,
      penalty: usd('2.8'),
      takerReward: usd('1.4'),
      lotLeft: size('0.1'),
    });
    // The account books 0.05 x (2827.44 - 3000) = -8.628 and pays 2.8.
    expect(await f.read.collateral(account)).toBe(before.collateral - usd('8.628') - usd('2.8'));
    expect(await f.read.position(keeper.address, ETH)).toEqual({ size: size('0.05'), entryPrice: x1 });
    // Equity minus maintenance moves by 0.05 x (2827.44 - 2800 x (1 + 2% - 5%)) = 0.05 x 111.44 = 5.572.
    expect(await surplusOf(account)).toBe(-usd('20') + usd('5.572'));

    await toStep(tic, 2n);
    // Step 2: 2856 x 0.99^2 = 2799.1656; ask for more than the lot: the rest of it (0.1) is taken.
    const x2 = price('2799.1656');
    const second = await take(keeper, account, size('1'), x2);
    expect(await stepOf(second, tic)).toBe(2n);
    expect(eventOf(second, 'AuctionTaken')).toMatchObject({ size: size('0.1'), price: x2, penalty: usd('5.6'), takerReward: usd('2.8'), lotLeft: 0n });
    expect(eventOf(second, 'AuctionClosed')).toEqual({ id: 1n, account, market: ETH, reason: END.filled, lotLeft: 0n });
    // 0.1 x (2799.1656 - 3000) = -20.08344; still below maintenance: -14.428 + 0.1 x (2799.1656 - 2716) = -6.11144.
    expect(await f.read.collateral(account)).toBe(before.collateral - usd('8.628') - usd('2.8') - usd('20.08344') - usd('5.6'));
    expect(await surplusOf(account)).toBe(-usd('6.11144'));
    expect(await f.read.position(account, ETH)).toEqual({ size: size('2.85'), entryPrice: price('3000') });
    // The taker holds 0.15 at the size-weighted entry (0.05 x 2827.44 + 0.1 x 2799.1656) / 0.15 = 2808.5904.
    expect(await f.read.position(keeper.address, ETH)).toEqual({ size: size('0.15'), entryPrice: price('2808.5904') });
    expect(await f.read.collateral(keeper.address)).toBe(keeperBefore + usd('1.4') + usd('2.8'));
    expect(await f.read.insurance()).toBe(insuranceBefore + usd('1.4') + usd('2.8'));
    expect((await f.read.auction(account, ETH)).lot).toBe(0n);
    await expectRevert(take(keeper, account, size('0.1'), x2), 'NoAuction');
  });

  it('takes no more than restores maintenance at its price, and then closes as restored', async () => {
    const account = await f.underwaterLong(1);
    const tic = await started(account, size('3'));
    await toStep(tic, 1n);
    const receipt = await take(keeper, account, size('3'), MAX_PRICE);
    expect(await stepOf(receipt, tic)).toBe(1n);
    // Each unit taken at 2827.44 moves equity minus maintenance by 111.44 (above): the deficit of
    // 20, plus the engine's rounding margin of 4 units, needs ceil(20.000004 / 111.44) of a unit.
    const restoring = ceilDiv((usd('20') + 4n) * VALUE_SCALE, price('2827.44') - price('2716'));
    const taken = eventOf(receipt, 'AuctionTaken');
    expect(taken).toMatchObject({ size: restoring, price: price('2827.44'), lotLeft: 0n });
    expect(eventOf(receipt, 'AuctionClosed')).toMatchObject({ reason: END.restored, lotLeft: size('3') - restoring });
    const surplus = await surplusOf(account);
    expect(surplus).toBeGreaterThanOrEqual(0n);
    expect(surplus).toBeLessThanOrEqual(RESTORE_TOLERANCE);
  });

  it('refuses a take that would leave the account worse off, by name, changing nothing', async () => {
    const account = await f.underwaterLong(2);
    const tic = await started(account, size('1'));
    await toStep(tic, 6n);
    // Step 6: 2856 x 0.99^6 = 2688.87 < 2716, the price at which a take leaves the account as it was.
    const x6 = (TOP * rpow(AUCTION.cut, 6n)) / WAD;
    expect(x6).toBe(price('2688.86730668'));
    expect((await f.read.auction(account, ETH)).needsReset).toBe(false); // 0.99^6 = 0.9415 >= cusp 0.9
    const before = await f.read.account(account);
    // Had it gone through: collateral 1000 + 0.1 x (2688.867 - 3000) - 5.6 of penalty, the 2.9 left
    // marked at -200 each, against 2.9 x 2800 x 5% = 406 of maintenance: 2.71 further below.
    const surplusAfter =
      usd('1000') + floorDiv(size('0.1') * (x6 - price('3000')), VALUE_SCALE) - usd('5.6') - usd('580') - ceilDiv(size('2.9') * P * ETH_SPEC.maintenanceMarginFraction, VALUE_SCALE * WAD);
    expect(surplusAfter).toBe(-usd('22.71327'));
    await expect(take(keeper, account, size('0.1'), MAX_PRICE)).rejects.toThrow(`reverted with AuctionTakeWorsensAccount("${account}", ${-usd('20')}, ${surplusAfter})`);
    expect(await f.read.account(account)).toEqual(before);
    expect((await f.read.auction(account, ETH)).lot).toBe(size('1'));
  });

  it('refuses a take once the account has recovered; then anyone may cancel it', async () => {
    const account = await f.underwaterLong(3);
    const tic = await started(account, size('1'));
    await expectRevert(cancel(f.stranger, account), 'AuctionStillNeeded');
    await f.setPrice(f.ethFeed, price('2900')); // E = 700 >= MM = 435
    await toStep(tic, 1n);
    await expectRevert(take(keeper, account, size('0.1'), MAX_PRICE), 'NotLiquidatable');
    await expectRevert(redo(keeper, account), 'AuctionResetNotDue');
    const receipt = await cancel(f.stranger, account);
    expect(eventOf(receipt, 'AuctionClosed')).toMatchObject({ account, reason: END.canceled, lotLeft: size('1') });
    expect((await f.read.auction(account, ETH)).lot).toBe(0n);
  });

  it('of a short lot starts at oracle / buf and rises, the taker going short', async () => {
    await f.setPrice(f.ethFeed, price('3000'));
    const account = (await f.openAccount(4, usd('1000'), ETH, size('-3'))).address;
    await f.setPrice(f.ethFeed, price('3200')); // E = 400 < MM = 480
    const tic = await started(account, size('-0.1'));
    const top = ceilDiv(price('3200') * WAD, AUCTION.buf); // 3137.25490197
    expect((await f.read.auction(account, ETH)).top).toBe(top);
    await toStep(tic, 1n);
    const x1 = ceilDiv(top * WAD, AUCTION.cut); // 3168.94434543: the taker sells higher each step
    expect(x1).toBe(price('3168.94434543'));
    await expectRevert(take(keeper, account, size('-0.1'), x1 + 1n), 'AuctionPriceBeyondLimit');
    const receipt = await take(keeper, account, size('-0.1'), x1);
    expect(eventOf(receipt, 'AuctionTaken')).toMatchObject({ size: size('-0.1'), price: x1, lotLeft: 0n });
    // Per unit, P (1 + 5% - 2%) - x = 3296 - 3168.94 = 127.06 of the deficit of 80 is repaid:
    // collateral 1000 + 0.1 x (3000 - x) - 6.4 of penalty, the 2.9 left marked at -200 each,
    // against 2.9 x 3200 x 5% = 464 of maintenance.
    const surplus = usd('1000') + floorDiv(-size('0.1') * (x1 - price('3000')), VALUE_SCALE) - usd('6.4') - usd('580') - usd('464');
    expect(surplus).toBe(-usd('80') + usd('12.705565'));
    expect(await surplusOf(account)).toBe(surplus);
    expect(await f.read.position(account, ETH)).toEqual({ size: size('-2.9'), entryPrice: price('3000') });
    await f.setPrice(f.ethFeed, P);
  });
});

describe('an auction reset', () => {
  it('is due once `tail` seconds have passed; it restarts from a fresh oracle price', async () => {
    await configure({ ...AUCTION, cusp: fraction('0.5'), tail: 600n });
    const account = await f.underwaterLong(5);
    const tic = await started(account, size('1'));
    await toStep(tic, 9n); // 570 s: not yet
    expect((await f.read.auction(account, ETH)).needsReset).toBe(false);
    await expectRevert(redo(keeper, account), 'AuctionResetNotDue');
    await f.mineAt(tic + 601n); // 0.99^10 = 0.904 is still above cusp 0.5: the time ran out
    const view = await f.read.auction(account, ETH);
    expect(view).toMatchObject({ needsReset: true, price: auctionPrice({ config: { ...AUCTION, cusp: fraction('0.5'), tail: 600n }, top: TOP, long: true, elapsed: 601n }).price });
    await expectRevert(take(keeper, account, size('0.1'), MAX_PRICE), 'AuctionNeedsReset');

    await f.setPrice(f.ethFeed, price('2750')); // E = 250 < MM = 412.5
    const receipt = await redo(f.stranger, account);
    // 2750 x 1.02 = 2805, from now.
    expect(eventOf(receipt, 'AuctionReset')).toEqual({ id: view.id, account, market: ETH, keeper: f.stranger.address, lot: size('1'), top: price('2805'), oraclePrice: price('2750') });
    expect(await f.read.auction(account, ETH)).toMatchObject({ lot: size('1'), top: price('2805'), price: price('2805'), needsReset: false, startedAt: await f.blockTime(receipt) });
    await f.setPrice(f.ethFeed, P);
  });

  it('is due once the price fell below `cusp` of its start, whatever the time', async () => {
    const config = { ...AUCTION, cusp: fraction('0.95'), tail: 86_400n };
    await configure(config);
    const account = await f.underwaterLong(6);
    const tic = await started(account, size('1'));
    await toStep(tic, 5n); // 0.99^5 = 0.95099 >= 0.95
    expect((await f.read.auction(account, ETH)).needsReset).toBe(false);
    await toStep(tic, 6n); // 0.99^6 = 0.94148 < 0.95
    expect(rpow(config.cut, 6n)).toBe(fraction('0.941480149401'));
    expect((await f.read.auction(account, ETH)).needsReset).toBe(true);
    await expectRevert(take(keeper, account, size('0.1'), MAX_PRICE), 'AuctionNeedsReset');
    const receipt = await redo(keeper, account);
    expect(eventOf(receipt, 'AuctionReset')).toMatchObject({ top: TOP, oraclePrice: P });
    await configure(AUCTION);
  });

  it('cuts the lot to what is left of the position', async () => {
    await configure({ ...AUCTION, cusp: WAD }); // due after one step
    const account = await f.underwaterLong(7);
    const tic = await started(account, size('3'));
    const max = await f.read.maxLiquidation(account, ETH);
    await f.liquidateAs(keeper, account, ETH, max / 2n); // still below maintenance, 3 - max/2 left
    await toStep(tic, 1n);
    const receipt = await redo(keeper, account);
    expect(eventOf(receipt, 'AuctionReset').lot).toBe(size('3') - max / 2n);
    await configure(AUCTION);
  });
});

describe('auction events', () => {
  it('leave every account rebuildable from logs alone', async () => {
    const compared = await expectLogsRebuildViews({ signer: f.deployer, engine: f.engine, feeds: [f.ethFeed, f.btcFeed] });
    expect(compared).toBeGreaterThanOrEqual(9);
    const logs = await f.deployer.public.getLogs({ address: f.engine, fromBlock: 0n });
    const names = logs.map((log) => decodeEventLog({ abi: marginEngineAbi, data: log.data, topics: log.topics }).eventName);
    for (const name of ['AuctionStarted', 'AuctionTaken', 'AuctionClosed', 'AuctionReset'] as const) expect(names).toContain(name);
  });
});

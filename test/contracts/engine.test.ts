/**
 * The margin engine, its price feeds and the collateral token on one real anvil chain, with
 * plain accounts in the vault and backstop roles so that every rule is reached directly.
 */
import { parseEventLogs, type Address, type Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collateralTokenAbi } from '../../chains/contracts/out/CollateralToken.js';
import { marginEngineAbi } from '../../chains/contracts/out/MarginEngine.js';
import { marketPriceFeedAbi, marketPriceFeedBytecode } from '../../chains/contracts/out/MarketPriceFeed.js';
import { ammClose } from '../../chains/protocol/amm.js';
import { marketId } from '../../chains/protocol/markets.js';
import { ceilDiv, floorDiv, price, size, usd, VALUE_SCALE, WAD } from '../../chains/protocol/units.js';
import type { Signer } from '../../chains/signer.js';
import { BTC, BTC_SPEC, ETH, ETH_SPEC, marketArgs, RESTORE_TOLERANCE, startEngineFixture, type EngineFixture } from './engine-fixture.js';
import { expectLogsRebuildViews, expectRevert } from './support.js';

let f: EngineFixture;
let deployer: Signer;
let vault: Signer;
let backstop: Signer;
let keeper: Signer;
let stranger: Signer;
let token: Address;
let engine: Address;
let ethFeed: Address;
let btcFeed: Address;
let read: EngineFixture['read'];
let trader: EngineFixture['trader'];
let setPrice: EngineFixture['setPrice'];
let fund: EngineFixture['fund'];
let tradeAs: EngineFixture['tradeAs'];
let liquidateAs: EngineFixture['liquidateAs'];
let absorbAs: EngineFixture['absorbAs'];

beforeAll(async () => {
  f = await startEngineFixture();
  ({ deployer, vault, backstop, keeper, stranger, token, engine, ethFeed, btcFeed, read, trader, setPrice, fund, tradeAs, liquidateAs, absorbAs } = f);
});

afterAll(async () => {
  await f?.stop();
});

// ------------------------------------------------------------------ tests

describe('MarketPriceFeed', () => {
  it('reads like a Chainlink aggregator', async () => {
    const call = <const name extends 'decimals' | 'description' | 'version' | 'latestRoundData'>(functionName: name) =>
      deployer.public.readContract({ address: ethFeed, abi: marketPriceFeedAbi, functionName });
    expect(await call('decimals')).toBe(8);
    expect(await call('description')).toBe('ETH / USD');
    expect(await call('version')).toBe(1n);
    const [roundId, answer, startedAt, updatedAt, answeredInRound] = await call('latestRoundData');
    expect({ roundId, answer, answeredInRound }).toEqual({ roundId: 1n, answer: price('3000'), answeredInRound: 1n });
    expect(updatedAt).toBeGreaterThan(0n);
    expect(startedAt).toBe(updatedAt);
  });

  it("lets only its owner push rounds, with Chainlink's events, and keeps past rounds", async () => {
    await expectRevert(stranger.write({ address: ethFeed, abi: marketPriceFeedAbi, functionName: 'pushRound', args: [price('1')] }), 'OwnableUnauthorizedAccount');
    await expectRevert(deployer.write({ address: ethFeed, abi: marketPriceFeedAbi, functionName: 'pushRound', args: [0n] }), 'NonPositiveAnswer');
    const receipt = await setPrice(ethFeed, price('3100'));
    const block = await deployer.public.getBlock({ blockHash: receipt.blockHash });
    const events = parseEventLogs({ abi: marketPriceFeedAbi, logs: receipt.logs });
    expect(events.map((e) => e.eventName)).toEqual(['NewRound', 'AnswerUpdated']);
    expect(events[1]?.args).toEqual({ current: price('3100'), roundId: 2n, updatedAt: block.timestamp });
    const [latestId, latest] = await deployer.public.readContract({ address: ethFeed, abi: marketPriceFeedAbi, functionName: 'latestRoundData' });
    expect([latestId, latest]).toEqual([2n, price('3100')]);
    const [, first] = await deployer.public.readContract({ address: ethFeed, abi: marketPriceFeedAbi, functionName: 'getRoundData', args: [1n] });
    expect(first).toBe(price('3000'));
    await expect(deployer.public.readContract({ address: ethFeed, abi: marketPriceFeedAbi, functionName: 'getRoundData', args: [99n] })).rejects.toThrow(/NoDataPresent/);
    await setPrice(ethFeed, price('3000'));
  });
});

describe('CollateralToken', () => {
  it('has 6 decimals and is minted and burned by the vault only', async () => {
    expect(await deployer.public.readContract({ address: token, abi: collateralTokenAbi, functionName: 'decimals' })).toBe(6);
    for (const caller of [stranger, deployer]) {
      await expectRevert(caller.write({ address: token, abi: collateralTokenAbi, functionName: 'mint', args: [caller.address, 1n] }), 'NotVault');
      await expectRevert(caller.write({ address: token, abi: collateralTokenAbi, functionName: 'burn', args: [0n] }), 'NotVault');
    }
    const supply = () => deployer.public.readContract({ address: token, abi: collateralTokenAbi, functionName: 'totalSupply' });
    const before = await supply();
    await vault.write({ address: token, abi: collateralTokenAbi, functionName: 'mint', args: [vault.address, usd('5')] });
    await vault.write({ address: token, abi: collateralTokenAbi, functionName: 'burn', args: [usd('2')] });
    expect(await read.balance(vault.address)).toBe(usd('3'));
    expect(await supply()).toBe(before + usd('3'));
    // The vault burns its own balance only: it holds 3, so 4 is refused.
    await expect(vault.write({ address: token, abi: collateralTokenAbi, functionName: 'burn', args: [usd('4')] })).rejects.toThrow(/ERC20InsufficientBalance/);
  });

  it('has its vault named once, by its deployer', async () => {
    await expectRevert(stranger.write({ address: token, abi: collateralTokenAbi, functionName: 'setVault', args: [stranger.address] }), 'NotAdmin');
    await expectRevert(deployer.write({ address: token, abi: collateralTokenAbi, functionName: 'setVault', args: [stranger.address] }), 'VaultAlreadySet');
    expect(await deployer.public.readContract({ address: token, abi: collateralTokenAbi, functionName: 'vault' })).toBe(vault.address);
  });
});

describe('MarginEngine configuration', () => {
  it('is the owner’s alone', async () => {
    const calls = [
      stranger.write({ address: engine, abi: marginEngineAbi, functionName: 'listMarket', args: [marketId('X-USD'), marketArgs(ethFeed, ETH_SPEC)] }),
      stranger.write({ address: engine, abi: marginEngineAbi, functionName: 'updateMarket', args: [ETH, marketArgs(ethFeed, ETH_SPEC)] }),
      stranger.write({ address: engine, abi: marginEngineAbi, functionName: 'setVault', args: [stranger.address] }),
      stranger.write({ address: engine, abi: marginEngineAbi, functionName: 'setBackstop', args: [stranger.address] }),
      stranger.write({ address: engine, abi: marginEngineAbi, functionName: 'setLiquidatorShare', args: [0n] }),
      stranger.write({ address: engine, abi: marginEngineAbi, functionName: 'transferOwnership', args: [stranger.address] }),
    ];
    for (const call of calls) await expectRevert(call, 'OwnableUnauthorizedAccount');
  });

  it('refuses inconsistent markets', async () => {
    const wideFeed = await deployer.deploy({ name: 'feed', abi: marketPriceFeedAbi, bytecode: marketPriceFeedBytecode, args: [18, 'X / USD', 10n ** 18n, deployer.address] });
    const list = (id: Hex, config: ReturnType<typeof marketArgs>) => deployer.write({ address: engine, abi: marginEngineAbi, functionName: 'listMarket', args: [id, config] });
    const base = marketArgs(ethFeed, ETH_SPEC);
    await expectRevert(list(ETH, base), 'MarketAlreadyListed');
    await expectRevert(list(marketId('X-USD'), { ...base, feed: wideFeed }), 'UnsupportedFeedDecimals');
    await expectRevert(list(marketId('X-USD'), { ...base, liquidationPenalty: base.maintenanceMarginFraction }), 'InvalidMarginFractions');
    await expectRevert(list(marketId('X-USD'), { ...base, initialMarginFraction: base.maintenanceMarginFraction }), 'InvalidMarginFractions');
    await expectRevert(list(marketId('X-USD'), { ...base, ammDepth: 0n }), 'InvalidAmmDepth');
    await expectRevert(list(marketId('X-USD'), { ...base, maxPriceAge: 0n }), 'InvalidMaxPriceAge');
    await expectRevert(list(`0x${'0'.repeat(64)}`, base), 'InvalidMarketId');
    await expectRevert(deployer.write({ address: engine, abi: marginEngineAbi, functionName: 'updateMarket', args: [marketId('X-USD'), base] }), 'UnknownMarket');
    await expectRevert(deployer.write({ address: engine, abi: marginEngineAbi, functionName: 'setLiquidatorShare', args: [WAD + 1n] }), 'InvalidFraction');
    expect(await deployer.public.readContract({ address: engine, abi: marginEngineAbi, functionName: 'marketIds' })).toEqual([ETH, BTC]);
  });

  it('lets the owner update a market, announced with its full configuration', async () => {
    const changed = { ...marketArgs(ethFeed, ETH_SPEC), maxPriceAge: 600n };
    const receipt = await deployer.write({ address: engine, abi: marginEngineAbi, functionName: 'updateMarket', args: [ETH, changed] });
    const [event] = parseEventLogs({ abi: marginEngineAbi, eventName: 'MarketConfigured', logs: receipt.logs });
    expect(event?.args).toMatchObject({ market: ETH, feed: ethFeed, maxPriceAge: 600n, ammDepth: ETH_SPEC.ammDepth });
    expect((await deployer.public.readContract({ address: engine, abi: marginEngineAbi, functionName: 'marketConfig', args: [ETH] })).maxPriceAge).toBe(600n);
    await deployer.write({ address: engine, abi: marginEngineAbi, functionName: 'updateMarket', args: [ETH, marketArgs(ethFeed, ETH_SPEC)] });
  });
});

describe('accounts', () => {
  it('deposit and withdraw free collateral only', async () => {
    const alice = trader(0);
    await fund(alice, usd('1000'));
    expect(await read.collateral(alice.address)).toBe(usd('1000'));
    expect(await read.balance(engine)).toBeGreaterThanOrEqual(usd('1000'));
    await expectRevert(alice.write({ address: engine, abi: marginEngineAbi, functionName: 'withdraw', args: [usd('1000') + 1n] }), 'InsufficientFreeCollateral');
    await expectRevert(alice.write({ address: engine, abi: marginEngineAbi, functionName: 'withdraw', args: [0n] }), 'ZeroAmount');
    await alice.write({ address: engine, abi: marginEngineAbi, functionName: 'withdraw', args: [usd('400')] });
    expect(await read.collateral(alice.address)).toBe(usd('600'));
    expect(await read.balance(alice.address)).toBe(usd('400'));
  });

  it('trade at the oracle price within initial margin, averaging entries and booking PnL when reducing', async () => {
    const bob = trader(1);
    await fund(bob, usd('1000'));
    await expectRevert(tradeAs(bob, ETH, size('4')), 'InsufficientMargin'); // 12000 notional needs 1200
    await expectRevert(tradeAs(bob, ETH, 0n), 'ZeroSize');
    await expectRevert(tradeAs(bob, marketId('DOGE-USD'), size('1')), 'UnknownMarket');
    const opened = await tradeAs(bob, ETH, size('3'));
    const used = parseEventLogs({ abi: marginEngineAbi, eventName: 'PriceUsed', logs: opened.logs })[0]?.args;
    expect(used).toMatchObject({ market: ETH, price: price('3000') });
    expect(await read.position(bob.address, ETH)).toEqual({ size: size('3'), entryPrice: price('3000') });

    await setPrice(ethFeed, price('3100'));
    await tradeAs(bob, ETH, size('1'));
    expect(await read.position(bob.address, ETH)).toEqual({ size: size('4'), entryPrice: price('3025') });
    const account = await read.account(bob.address);
    // E = 1000 + 4 x 75 = 1300; IM = 4 x 3100 x 10% = 1240: 60 free.
    expect(account.freeCollateral).toBe(usd('60'));
    await expectRevert(bob.write({ address: engine, abi: marginEngineAbi, functionName: 'withdraw', args: [usd('60') + 1n] }), 'InsufficientFreeCollateral');

    const reduced = await tradeAs(bob, ETH, size('-0.5'));
    const changed = parseEventLogs({ abi: marginEngineAbi, eventName: 'PositionChanged', logs: reduced.logs })[0]?.args;
    expect(changed).toMatchObject({ sizeDelta: size('-0.5'), size: size('3.5'), entryPrice: price('3025'), price: price('3100'), realizedPnl: usd('37.5') });
    expect(await read.collateral(bob.address)).toBe(usd('1037.5'));

    // Crossing zero closes the long (3.5 x 75 booked) and opens the rest short at the price.
    await tradeAs(bob, ETH, size('-4.5'));
    expect(await read.position(bob.address, ETH)).toEqual({ size: size('-1'), entryPrice: price('3100') });
    expect(await read.collateral(bob.address)).toBe(usd('1300'));
    await setPrice(ethFeed, price('3000'));
  });
});

describe('vault margin calls', () => {
  it('are the vault’s alone', async () => {
    await expectRevert(stranger.write({ address: engine, abi: marginEngineAbi, functionName: 'creditMargin', args: [stranger.address, 1n] }), 'NotVault');
    await expectRevert(stranger.write({ address: engine, abi: marginEngineAbi, functionName: 'releaseMargin', args: [trader(0).address, 1n] }), 'NotVault');
  });

  it('credit from the vault, and release only consented surplus that leaves the account at or above initial margin', async () => {
    const carol = trader(2);
    await vault.write({ address: token, abi: collateralTokenAbi, functionName: 'mint', args: [vault.address, usd('2000')] });
    await vault.write({ address: token, abi: collateralTokenAbi, functionName: 'approve', args: [engine, usd('2000')] });
    const vaultBefore = await read.balance(vault.address);
    await vault.write({ address: engine, abi: marginEngineAbi, functionName: 'creditMargin', args: [carol.address, usd('2000')] });
    expect(await read.collateral(carol.address)).toBe(usd('2000'));
    expect(await read.balance(vault.address)).toBe(vaultBefore - usd('2000'));
    await tradeAs(carol, ETH, size('-5')); // IM 1500: 500 free
    const release = (amount: bigint) => vault.write({ address: engine, abi: marginEngineAbi, functionName: 'releaseMargin', args: [carol.address, amount] });
    await expectRevert(release(usd('100')), 'NoCrossChainConsent');
    const consent = await carol.write({ address: engine, abi: marginEngineAbi, functionName: 'setCrossChainConsent', args: [true] });
    expect(parseEventLogs({ abi: marginEngineAbi, eventName: 'CrossChainConsentSet', logs: consent.logs })[0]?.args).toEqual({ account: carol.address, allowed: true });
    await expectRevert(release(usd('500') + 1n), 'InsufficientFreeCollateral');
    await release(usd('500'));
    const after = await read.account(carol.address);
    expect(after.equity).toBe(usd('1500'));
    expect(after.equity).toBeGreaterThanOrEqual(BigInt(after.initialMargin));
    expect(after.freeCollateral).toBe(0n);
    expect(await read.balance(vault.address)).toBe(vaultBefore - usd('1500'));
  });
});

describe('liquidation', () => {
  it('is refused at or above maintenance', async () => {
    const dave = trader(3);
    await setPrice(ethFeed, price('3000'));
    await fund(dave, usd('1000'));
    await tradeAs(dave, ETH, size('3'));
    expect(await read.maxLiquidation(dave.address, ETH)).toBe(0n);
    await expectRevert(liquidateAs(keeper, dave.address, ETH, size('0.1')), 'NotLiquidatable');
  });

  it('closes a long through the AMM only up to the size that restores maintenance, at the curve’s slippage, splitting the penalty', async () => {
    const dave = trader(3);
    await setPrice(ethFeed, price('2800')); // E = 400 < MM = 420
    const P = price('2800');
    const before = await read.account(dave.address);
    expect(before.equity).toBeLessThan(BigInt(before.maintenanceMargin));
    const max = await read.maxLiquidation(dave.address, ETH);
    expect(max).toBeGreaterThan(0n);
    expect(max).toBeLessThan(size('3'));
    await expectRevert(liquidateAs(keeper, dave.address, ETH, max + 1n), 'LiquidationTooLarge');
    await expectRevert(liquidateAs(keeper, dave.address, ETH, -max), 'SizeNotOnPosition');
    await expectRevert(liquidateAs(keeper, dave.address, ETH, size('3.5')), 'SizeNotOnPosition');

    const [keeperBefore, insuranceBefore] = [await read.collateral(keeper.address), await read.insurance()];
    const receipt = await liquidateAs(keeper, dave.address, ETH, max);
    const event = parseEventLogs({ abi: marginEngineAbi, eventName: 'Liquidated', logs: receipt.logs })[0]?.args;
    // The constant-product curve centred on the oracle: selling s of depth L returns P L s / (L + s).
    const L = ETH_SPEC.ammDepth;
    const quote = (max * P * L) / (L + max);
    expect(event?.slippage).toBe(ceilDiv(max * P * max, (L + max) * VALUE_SCALE));
    expect(event?.executionPrice).toBe(quote / max);
    expect(event?.executionPrice).toBeLessThan(P);
    const penalty = ceilDiv(max * P * ETH_SPEC.liquidationPenalty, VALUE_SCALE * WAD);
    expect(event).toMatchObject({ account: dave.address, liquidator: keeper.address, size: max, oraclePrice: P, penalty, liquidatorReward: penalty / 2n });
    expect(await read.collateral(keeper.address)).toBe(keeperBefore + penalty / 2n);
    expect(await read.insurance()).toBe(insuranceBefore + penalty - penalty / 2n);
    const realized = floorDiv(quote - max * price('3000'), VALUE_SCALE);
    expect(await read.collateral(dave.address)).toBe(before.collateral + realized - penalty);
    expect(await read.position(dave.address, ETH)).toEqual({ size: size('3') - max, entryPrice: price('3000') });

    // Health is restored, by no more than the rounding margin: the size was the least that does it.
    const after = await read.account(dave.address);
    const surplus = after.equity - BigInt(after.maintenanceMargin);
    expect(surplus).toBeGreaterThanOrEqual(0n);
    expect(surplus).toBeLessThanOrEqual(RESTORE_TOLERANCE);
    expect(await read.maxLiquidation(dave.address, ETH)).toBe(0n);
    await expectRevert(liquidateAs(keeper, dave.address, ETH, 1n), 'NotLiquidatable');
  });

  it('buys a short back through the AMM at P L s / (L - s), again only up to what restores maintenance', async () => {
    const erin = trader(4);
    await setPrice(ethFeed, price('3000'));
    await fund(erin, usd('1000'));
    await tradeAs(erin, ETH, size('-3'));
    await setPrice(ethFeed, price('3200')); // E = 400 < MM = 480
    const max = await read.maxLiquidation(erin.address, ETH);
    expect(max).toBeLessThan(0n);
    expect(max).toBeGreaterThan(size('-3'));
    await expectRevert(liquidateAs(keeper, erin.address, ETH, max - 1n), 'LiquidationTooLarge');
    const receipt = await liquidateAs(keeper, erin.address, ETH, max);
    const event = parseEventLogs({ abi: marginEngineAbi, eventName: 'Liquidated', logs: receipt.logs })[0]?.args;
    const s = -max;
    const P = price('3200');
    const L = ETH_SPEC.ammDepth;
    expect(event?.slippage).toBe(ceilDiv(ceilDiv(s * P * L, L - s) - s * P, VALUE_SCALE));
    expect(event?.executionPrice).toBeGreaterThan(P);
    const expected = ammClose({ amount: s, long: false, price: P, entryPrice: price('3000'), depth: L });
    expect(event?.slippage).toBe(expected.slippage);
    const after = await read.account(erin.address);
    const surplus = after.equity - BigInt(after.maintenanceMargin);
    expect(surplus).toBeGreaterThanOrEqual(0n);
    expect(surplus).toBeLessThanOrEqual(RESTORE_TOLERANCE);
  });

  it('allows the whole position when no partial close can restore maintenance, and covers the bad debt from insurance', async () => {
    const frank = trader(5);
    await setPrice(ethFeed, price('3000'));
    await fund(frank, usd('1000'));
    await tradeAs(frank, ETH, size('3'));
    await setPrice(ethFeed, price('2700')); // E = 100, MM = 405: closing frees at most ~3% of 8100
    expect(await read.maxLiquidation(frank.address, ETH)).toBe(size('3'));
    const insuranceBefore = await read.insurance();
    const receipt = await liquidateAs(keeper, frank.address, ETH, size('3'));
    const event = parseEventLogs({ abi: marginEngineAbi, eventName: 'Liquidated', logs: receipt.logs })[0]?.args;
    // Slippage grows faster than size: per unit it is P s / (L + s).
    expect(event?.slippage).toBe(ammClose({ amount: size('3'), long: true, price: price('2700'), entryPrice: price('3000'), depth: ETH_SPEC.ammDepth }).slippage);
    const collateralChanges = parseEventLogs({ abi: marginEngineAbi, eventName: 'CollateralChanged', logs: receipt.logs }).filter((e) => e.args.account === frank.address);
    const beforeCover = collateralChanges.at(-2)?.args.balance ?? 0n;
    expect(beforeCover).toBeLessThan(0n);
    const penaltyShare = (event?.penalty ?? 0n) - (event?.liquidatorReward ?? 0n);
    const cover = -beforeCover < insuranceBefore + penaltyShare ? -beforeCover : insuranceBefore + penaltyShare;
    expect(collateralChanges.at(-1)?.args).toMatchObject({ reason: 7, delta: cover });
    expect(await read.insurance()).toBe(insuranceBefore + penaltyShare - cover);
    expect(await read.position(frank.address, ETH)).toEqual({ size: 0n, entryPrice: 0n });
  });
});

describe('absorb', () => {
  it('is the backstop’s alone, and refused at or above initial margin', async () => {
    const gina = trader(6);
    await setPrice(ethFeed, price('3000'));
    await fund(gina, usd('1000'));
    await tradeAs(gina, ETH, size('3'));
    await expectRevert(absorbAs(stranger, gina.address, ETH, size('0.1')), 'NotBackstop');
    await expectRevert(absorbAs(vault, gina.address, ETH, size('0.1')), 'NotBackstop');
    expect(await read.maxAbsorb(gina.address, ETH)).toBe(0n);
    await expectRevert(absorbAs(backstop, gina.address, ETH, size('0.1')), 'NotAbsorbable');
  });

  it('moves a long to the backstop at the oracle price minus the penalty, up to what restores initial margin', async () => {
    const gina = trader(6);
    await setPrice(ethFeed, price('2900')); // E = 700 < IM = 870, above MM = 435
    await expectRevert(liquidateAs(keeper, gina.address, ETH, size('0.1')), 'NotLiquidatable');
    const max = await read.maxAbsorb(gina.address, ETH);
    expect(max).toBeGreaterThan(0n);
    expect(max).toBeLessThan(size('3'));
    await expectRevert(absorbAs(backstop, gina.address, ETH, max + 1n), 'AbsorptionTooLarge');
    const collateralBefore = await read.collateral(gina.address);
    const backstopBefore = await read.position(backstop.address, ETH);
    const receipt = await absorbAs(backstop, gina.address, ETH, max);
    const absorbPrice = (price('2900') * (WAD - ETH_SPEC.liquidationPenalty)) / WAD;
    expect(absorbPrice).toBe(price('2842'));
    const event = parseEventLogs({ abi: marginEngineAbi, eventName: 'Absorbed', logs: receipt.logs })[0]?.args;
    expect(event).toMatchObject({ account: gina.address, backstop: backstop.address, size: max, oraclePrice: price('2900'), absorbPrice });
    expect(event?.penalty).toBe(ceilDiv(max * (price('2900') - absorbPrice), VALUE_SCALE));
    // No AMM: the account books exactly (absorbPrice - entry) per unit; the backstop opens at absorbPrice.
    expect(await read.collateral(gina.address)).toBe(collateralBefore + floorDiv(max * (absorbPrice - price('3000')), VALUE_SCALE));
    expect(await read.position(gina.address, ETH)).toEqual({ size: size('3') - max, entryPrice: price('3000') });
    expect(backstopBefore.size).toBe(0n);
    expect(await read.position(backstop.address, ETH)).toEqual({ size: max, entryPrice: absorbPrice });
    const after = await read.account(gina.address);
    const surplus = after.equity - BigInt(after.initialMargin);
    expect(surplus).toBeGreaterThanOrEqual(0n);
    expect(surplus).toBeLessThanOrEqual(RESTORE_TOLERANCE);
    expect(await read.maxAbsorb(gina.address, ETH)).toBe(0n);
  });

  it('absorbUpTo takes over as much as allowed: the whole ask, the cap, or nothing from a healthy account', async () => {
    const ivan = trader(8);
    await setPrice(ethFeed, price('3000'));
    await fund(ivan, usd('1000'));
    await tradeAs(ivan, ETH, size('3'));
    const upTo = (caller: Signer, amount: bigint) =>
      caller.write({ address: engine, abi: marginEngineAbi, functionName: 'absorbUpTo', args: [ivan.address, ETH, amount], label: 'MarginEngine' });
    const absorbedIn = (receipt: Awaited<ReturnType<typeof upTo>>) => parseEventLogs({ abi: marginEngineAbi, eventName: 'Absorbed', logs: receipt.logs }).map((e) => e.args.size);
    await expectRevert(upTo(stranger, size('1')), 'NotBackstop');
    expect(absorbedIn(await upTo(backstop, size('1')))).toEqual([]); // healthy: nothing, no revert
    await setPrice(ethFeed, price('2900'));
    const cap = await read.maxAbsorb(ivan.address, ETH);
    expect(absorbedIn(await upTo(backstop, -cap))).toEqual([]); // the wrong side: nothing
    expect(absorbedIn(await upTo(backstop, cap / 2n))).toEqual([cap / 2n]);
    const rest = await read.maxAbsorb(ivan.address, ETH);
    expect(rest).toBeGreaterThan(0n);
    expect(absorbedIn(await upTo(backstop, size('3')))).toEqual([rest]);
    expect(await read.maxAbsorb(ivan.address, ETH)).toBe(0n);
    await setPrice(ethFeed, price('3000'));
  });

  it('moves a short at the oracle price plus the penalty', async () => {
    const hugo = trader(7);
    await fund(hugo, usd('600'));
    await tradeAs(hugo, BTC, size('-0.1')); // 6000 notional, IM 480
    await setPrice(btcFeed, price('62000')); // E = 400 < IM = 496
    const max = await read.maxAbsorb(hugo.address, BTC);
    expect(max).toBeLessThan(0n);
    const receipt = await absorbAs(backstop, hugo.address, BTC, max);
    const absorbPrice = ceilDiv(price('62000') * (WAD + BTC_SPEC.liquidationPenalty), WAD);
    expect(parseEventLogs({ abi: marginEngineAbi, eventName: 'Absorbed', logs: receipt.logs })[0]?.args.absorbPrice).toBe(absorbPrice);
    expect(await read.position(backstop.address, BTC)).toEqual({ size: max, entryPrice: absorbPrice });
    const after = await read.account(hugo.address);
    expect(after.equity).toBeGreaterThanOrEqual(BigInt(after.initialMargin));
    await setPrice(btcFeed, BTC_SPEC.initialPrice);
  });
});

describe('stale prices', () => {
  it('stop every state change that needs them, while views still answer', async () => {
    const control = f.control;
    const snapshot = await control.snapshot();
    try {
      await control.increaseTime({ seconds: Number(ETH_SPEC.maxPriceAge) + 1 });
      await control.mine({ blocks: 1 });
      const [, , , fresh] = await deployer.public.readContract({ address: engine, abi: marginEngineAbi, functionName: 'marketPrice', args: [ETH] });
      expect(fresh).toBe(false);
      const bob = trader(1); // short 1 ETH
      await expectRevert(tradeAs(bob, ETH, size('-0.1')), 'StalePrice');
      await expectRevert(bob.write({ address: engine, abi: marginEngineAbi, functionName: 'withdraw', args: [1n] }), 'StalePrice');
      expect((await read.account(bob.address)).positions).toHaveLength(1);
    } finally {
      await control.revert({ id: snapshot });
    }
  });
});

describe('events', () => {
  it('rebuild every account from logs alone, equal to the engine’s views', async () => {
    const compared = await expectLogsRebuildViews({ signer: deployer, engine, feeds: [ethFeed, btcFeed] });
    expect(compared).toBeGreaterThanOrEqual(9);
  });
});

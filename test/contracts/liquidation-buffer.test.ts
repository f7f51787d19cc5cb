/**
 * The margin engine's liquidation buffer on a real anvil chain (issue 14: fewer account-hours
 * below maintenance): once an account is below maintenance, a liquidation or an auction take may
 * restore it up to its close level, maintenance plus `liquidationBuffer` of the notional, not
 * only to maintenance, and no further; a buffer past initial margin is refused by name.
 *
 * The account is long 3 ETH opened at 3000 with 1000 of collateral and marked at 2800:
 * E = 400 < MM = 420; with a buffer of 3% the close level is 3 x 2800 x 8% = 672.
 */
import { parseEventLogs, type Address } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { marginEngineAbi } from '../../chains/contracts/out/MarginEngine.js';
import type { AuctionConfig } from '../../chains/protocol/auction.js';
import { ceilDiv, fraction, price, size, usd, VALUE_SCALE, WAD } from '../../chains/protocol/units.js';
import { ETH, ETH_SPEC, marketArgs, RESTORE_TOLERANCE, startEngineFixture, type EngineFixture } from './engine-fixture.js';
import { expectRevert } from './support.js';

const BUFFER = fraction('0.03');
const AUCTION: AuctionConfig = { buf: fraction('1.02'), cut: fraction('0.99'), cusp: fraction('0.9'), step: 60n, tail: 1_800n };
const label = 'MarginEngine';

let f: EngineFixture;

beforeAll(async () => {
  f = await startEngineFixture();
  await f.deployer.write({ address: f.engine, abi: marginEngineAbi, functionName: 'updateMarket', args: [ETH, marketArgs(f.ethFeed, ETH_SPEC, BUFFER)], label });
  await f.deployer.write({ address: f.engine, abi: marginEngineAbi, functionName: 'setAuctionConfig', args: [ETH, AUCTION], label });
  await f.fund(f.keeper, usd('10000'));
});

afterAll(async () => {
  await f?.stop();
});

/** Equity minus the close level: sum |p| P (m + buffer), rounded up as the engine rounds requirements. */
async function aboveCloseLevel(account: Address): Promise<bigint> {
  const view = await f.read.account(account);
  const { size: held } = await f.read.position(account, ETH);
  const [oracle] = await f.deployer.public.readContract({ address: f.engine, abi: marginEngineAbi, functionName: 'marketPrice', args: [ETH] });
  const notional = (held < 0n ? -held : held) * oracle;
  return view.equity - ceilDiv(notional * (ETH_SPEC.maintenanceMarginFraction + BUFFER), VALUE_SCALE * WAD);
}

describe('the liquidation buffer', () => {
  it('is refused past initial margin, by name, and announced with the market', async () => {
    const tooMuch = ETH_SPEC.initialMarginFraction - ETH_SPEC.maintenanceMarginFraction + 1n;
    await expectRevert(
      f.deployer.write({ address: f.engine, abi: marginEngineAbi, functionName: 'updateMarket', args: [ETH, marketArgs(f.ethFeed, ETH_SPEC, tooMuch)], label }),
      'InvalidLiquidationBuffer',
    );
    expect((await f.deployer.public.readContract({ address: f.engine, abi: marginEngineAbi, functionName: 'marketConfig', args: [ETH] })).liquidationBuffer).toBe(BUFFER);
    const receipt = await f.deployer.write({ address: f.engine, abi: marginEngineAbi, functionName: 'updateMarket', args: [ETH, marketArgs(f.ethFeed, ETH_SPEC, BUFFER)], label });
    expect(parseEventLogs({ abi: marginEngineAbi, eventName: 'MarketConfigured', logs: receipt.logs })[0]?.args.liquidationBuffer).toBe(BUFFER);
  });

  it('lets a liquidation restore the close level and no more, and only from below maintenance', async () => {
    const account = await f.underwaterLong(0);
    const max = await f.read.maxLiquidation(account, ETH);
    await expectRevert(f.liquidateAs(f.keeper, account, ETH, max + 1n), 'LiquidationTooLarge');
    await f.liquidateAs(f.keeper, account, ETH, max);
    const surplus = await aboveCloseLevel(account);
    expect(surplus).toBeGreaterThanOrEqual(0n);
    expect(surplus).toBeLessThanOrEqual(RESTORE_TOLERANCE);
    // Well above maintenance now: by about the buffer on what is left.
    const view = await f.read.account(account);
    expect(view.equity - BigInt(view.maintenanceMargin)).toBeGreaterThan(usd('60'));
    await expectRevert(f.liquidateAs(f.keeper, account, ETH, 1n), 'NotLiquidatable');
  });

  it('cuts an auction take to what restores the close level at its price', async () => {
    const account = await f.underwaterLong(1);
    await f.keeper.write({ address: f.engine, abi: marginEngineAbi, functionName: 'startAuction', args: [account, ETH, size('3')], label });
    const receipt = await f.keeper.write({ address: f.engine, abi: marginEngineAbi, functionName: 'take', args: [account, ETH, size('3'), 2n ** 256n - 1n], label });
    // At 2856 a unit taken moves equity minus the close level by 2856 - 2800 (1 + 2% - 8%) = 224:
    // the deficit of 672 - 400 = 272, plus the rounding margin of 4 units.
    const taken = parseEventLogs({ abi: marginEngineAbi, eventName: 'AuctionTaken', logs: receipt.logs })[0]?.args;
    expect(taken?.size).toBe(ceilDiv((usd('272') + 4n) * VALUE_SCALE, price('2856') - price('2632')));
    const surplus = await aboveCloseLevel(account);
    expect(surplus).toBeGreaterThanOrEqual(0n);
    expect(surplus).toBeLessThanOrEqual(RESTORE_TOLERANCE);
  });
});

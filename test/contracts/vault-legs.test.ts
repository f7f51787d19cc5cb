/**
 * The protocol as the devnet deploys it on three chains: vaults wired both ways on the real
 * LayerZero V2 and Wormhole contracts, accounts seeded from a file, and collateral and liquidity
 * legs sent and delivered by the node's transports, conserving supply.
 */
import { join } from 'node:path';
import { pad, parseEventLogs, toHex, type Address, type Hash, type Hex } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collateralTokenAbi } from '../../chains/contracts/out/CollateralToken.js';
import { marginEngineAbi } from '../../chains/contracts/out/MarginEngine.js';
import { devnetAccount, devnetRoles } from '../../chains/devnet/keys.js';
import type { ManifestChain } from '../../chains/devnet/manifest.js';
import { DEVNET_AUCTION, DEVNET_INSURANCE_LOSS_CAP, DEVNET_MARKET_LIMITS, DEVNET_MARKETS, DEVNET_VAULT_RESERVE } from '../../chains/devnet/protocol.js';
import { seedAccounts, type SeedFile } from '../../chains/devnet/seed.js';
import { vaultCallAbi } from '../../chains/protocol/abi.js';
import { legPayload, type Leg } from '../../chains/protocol/legs.js';
import { decodeLegPayload, LEG_KIND, TRANSPORT_ID } from '../../chains/protocol/payload.js';
import { pushPrice } from '../../chains/protocol/price-feed.js';
import { price, size, usd, VALUE_SCALE } from '../../chains/protocol/units.js';
import type { Signer } from '../../chains/signer.js';
import { ConfigError } from '../../relayer/errors.js';
import { BTC, ETH, ProtocolHarness, STATUS, traderAddress } from './protocol-harness.js';
import { expectRevert } from './support.js';

const SEED: SeedFile = {
  accounts: [
    // A trader with surplus on alpha that it lets move, and a position on beta.
    { trader: 0, chain: 'alpha', deposit: '10000', crossChainConsent: true, positions: [{ market: 'ETH-USD', size: '2' }] },
    { trader: 0, chain: 'beta', deposit: '1000', crossChainConsent: true, positions: [{ market: 'ETH-USD', size: '3' }] },
    // Surplus without consent.
    { trader: 1, chain: 'alpha', deposit: '5000' },
    // Surplus with consent and no position, for the refusals.
    { trader: 4, chain: 'alpha', deposit: '10000', crossChainConsent: true },
    // Accounts the backstop will take over from: a long on beta, a short on gamma.
    { trader: 2, chain: 'beta', deposit: '1000', positions: [{ market: 'ETH-USD', size: '3' }] },
    { trader: 3, chain: 'gamma', deposit: '600', positions: [{ market: 'BTC-USD', size: '-0.1' }] },
  ],
};

let h: ProtocolHarness;
let alpha: ManifestChain;
let beta: ManifestChain;
let gamma: ManifestChain;

beforeAll(async () => {
  h = await ProtocolHarness.start();
  ({ alpha, beta, gamma } = h);
});

afterAll(async () => {
  await h?.stop();
});

describe('the devnet deployment', () => {
  it('lists the protocol in the manifest and wires every ordered pair of vaults on both transports', async () => {
    for (const chain of h.manifest.chains) {
      const client = h.relayerOn(chain).public;
      const { vault, marginEngine, collateralToken } = chain.contracts;
      expect(chain.markets.map((m) => m.symbol)).toEqual(DEVNET_MARKETS.map((m) => m.symbol));
      expect(await client.readContract({ address: marginEngine, abi: marginEngineAbi, functionName: 'marketIds' })).toEqual(chain.markets.map((m) => m.marketId));
      expect(await client.readContract({ address: collateralToken, abi: collateralTokenAbi, functionName: 'vault' })).toBe(vault);
      expect(await client.readContract({ address: marginEngine, abi: marginEngineAbi, functionName: 'vault' })).toBe(vault);
      expect(await client.readContract({ address: marginEngine, abi: marginEngineAbi, functionName: 'backstop' })).toBe(vault);
      expect(await client.readContract({ address: vault, abi: vaultCallAbi, functionName: 'isRelayer', args: [h.relayerOn(chain).address] })).toBe(true);
      expect(await client.readContract({ address: vault, abi: vaultCallAbi, functionName: 'wormholeChainId' })).toBe(chain.wormholeChainId);
      expect(await h.reserveOf(chain)).toBe(DEVNET_VAULT_RESERVE);
      for (const other of h.manifest.chains.filter((c) => c.key !== chain.key)) {
        const peer = pad(other.contracts.vault.toLowerCase() as Address, { size: 32 });
        expect(await client.readContract({ address: vault, abi: vaultCallAbi, functionName: 'remote', args: [BigInt(other.chainId)] })).toEqual({
          lzEid: other.lzEid,
          wormholeChainId: other.wormholeChainId,
          peer,
        });
        expect(await client.readContract({ address: vault, abi: vaultCallAbi, functionName: 'peers', args: [other.lzEid] })).toBe(peer);
        expect(await client.readContract({ address: vault, abi: vaultCallAbi, functionName: 'chainIdByLzEid', args: [other.lzEid] })).toBe(BigInt(other.chainId));
        expect(await client.readContract({ address: vault, abi: vaultCallAbi, functionName: 'chainIdByWormholeChainId', args: [other.wormholeChainId] })).toBe(
          BigInt(other.chainId),
        );
      }
    }
  });

  it('configures every market’s auction and per-block limits, the insurance cap and the guardian with the devnet defaults', async () => {
    for (const chain of h.manifest.chains) {
      const engine = { address: chain.contracts.marginEngine, abi: marginEngineAbi } as const;
      const client = h.relayerOn(chain).public;
      expect(await client.readContract({ ...engine, functionName: 'guardian' })).toBe(devnetAccount(devnetRoles.guardian).address);
      for (const market of chain.markets) {
        expect(await client.readContract({ ...engine, functionName: 'auctionConfig', args: [market.marketId] })).toEqual(DEVNET_AUCTION);
        expect(await client.readContract({ ...engine, functionName: 'blockLimits', args: [market.marketId] })).toMatchObject({
          maxNotionalPerBlock: DEVNET_MARKET_LIMITS.maxNotionalPerBlock,
          maxInsuranceLossPerBlock: DEVNET_INSURANCE_LOSS_CAP,
          unwindImpactBps: DEVNET_MARKET_LIMITS.unwindImpactBps,
          paused: false,
        });
      }
    }
  });
});

describe('seedAccounts', () => {
  it('refuses a bad seed file naming the field, before sending anything', async () => {
    const cases: [unknown, string][] = [
      [{ accounts: [{ trader: 0, chain: 'omega', deposit: '1' }] }, "accounts[0].chain: unknown chain 'omega'"],
      [{ accounts: [{ trader: 0, chain: 'alpha', deposit: '1', positions: [{ market: 'DOGE-USD', size: '1' }] }] }, "accounts[0].positions[0].market: no market 'DOGE-USD'"],
      [{ accounts: [{ trader: 0, chain: 'alpha', deposit: 'lots' }] }, 'accounts[0].deposit: must be a decimal amount in USD'],
      [{ accounts: [{ trader: 0, chain: 'alpha', deposit: '1', positions: [{ market: 'ETH-USD', size: '0' }] }] }, 'accounts[0].positions[0].size: must not be zero'],
      [{ prices: { 'ETH-USD': '-5' } }, 'prices.ETH-USD: must be positive'],
    ];
    const blockBefore = await h.relayerOn(alpha).public.getBlockNumber();
    for (const [index, [content, message]] of cases.entries()) {
      const file = await h.seedFile(`bad-${index}.json`, content);
      await expect(seedAccounts({ manifest: h.manifest, file })).rejects.toThrow(ConfigError);
      await expect(seedAccounts({ manifest: h.manifest, file })).rejects.toThrow(`${file}: ${message}`);
    }
    await expect(seedAccounts({ manifest: h.manifest, file: join(h.seedDir, 'missing.json') })).rejects.toThrow(/cannot be read: ENOENT/);
    expect(await h.relayerOn(alpha).public.getBlockNumber()).toBe(blockBefore);
  });

  it('seeds accounts with deposits, consent and positions from a JSON file', async () => {
    const seeded = await h.seed(SEED);
    expect(seeded.map((a) => [a.chain, a.trader])).toEqual([
      ['alpha', 0],
      ['beta', 0],
      ['alpha', 1],
      ['alpha', 4],
      ['beta', 2],
      ['gamma', 3],
    ]);
    const alphaTrader = await h.account(alpha, traderAddress(0));
    expect(alphaTrader).toMatchObject({ collateral: usd('10000'), crossChainConsent: true, initialMargin: usd('600') });
    expect(alphaTrader.positions.map((p) => [p.market, p.size, p.entryPrice])).toEqual([[ETH, size('2'), price('3000')]]);
    expect(await h.account(alpha, traderAddress(1))).toMatchObject({ collateral: usd('5000'), crossChainConsent: false, positions: [] });
    expect(await h.position(gamma, traderAddress(3), BTC)).toEqual({ size: size('-0.1'), entryPrice: price('60000') });
  });
});

describe('access control', () => {
  it('lets only a relayer start or cancel a leg', async () => {
    const vault = alpha.contracts.vault;
    const dst = BigInt(beta.chainId);
    for (const caller of [h.strangerOn(alpha), h.deployerOn(alpha)]) {
      const later = await h.deadline(alpha);
      await expectRevert(
        caller.write({ address: vault, abi: vaultCallAbi, functionName: 'sendCollateral', args: [dst, traderAddress(0), usd('1'), h.newLegId(), later, TRANSPORT_ID.wormhole, '0x'], value: 1_000n }),
        'NotRelayer',
      );
      await expectRevert(
        caller.write({
          address: vault,
          abi: vaultCallAbi,
          functionName: 'sendLiquidity',
          args: [dst, traderAddress(2), usd('1'), ETH, size('1'), h.newLegId(), later, TRANSPORT_ID.wormhole, '0x'],
          value: 1_000n,
        }),
        'NotRelayer',
      );
      await expectRevert(caller.write({ address: vault, abi: vaultCallAbi, functionName: 'cancelLeg', args: [dst, h.newLegId(), TRANSPORT_ID.wormhole, '0x'], value: 1_000n }), 'NotRelayer');
    }
  });

  it('lets only the owner configure the vault, and peers only through remotes', async () => {
    const stranger = h.strangerOn(alpha);
    const vault = alpha.contracts.vault;
    const calls = [
      stranger.write({ address: vault, abi: vaultCallAbi, functionName: 'setRelayer', args: [stranger.address, true] }),
      stranger.write({ address: vault, abi: vaultCallAbi, functionName: 'setRemote', args: [BigInt(beta.chainId), beta.lzEid, beta.wormholeChainId, stranger.address] }),
      stranger.write({ address: vault, abi: vaultCallAbi, functionName: 'removeRemote', args: [BigInt(beta.chainId)] }),
      stranger.write({ address: vault, abi: vaultCallAbi, functionName: 'issue', args: [stranger.address, usd('1')] }),
      stranger.write({ address: vault, abi: vaultCallAbi, functionName: 'withdrawBackstopMargin', args: [usd('1')] }),
      stranger.write({ address: vault, abi: vaultCallAbi, functionName: 'setDelegate', args: [stranger.address] }),
    ];
    for (const call of calls) await expectRevert(call, 'OwnableUnauthorizedAccount');
    const owner = h.deployerOn(alpha);
    await expect(owner.public.readContract({ address: vault, abi: vaultCallAbi, functionName: 'setPeer', args: [beta.lzEid, pad(stranger.address, { size: 32 })] })).rejects.toThrow(
      /PeersFollowRemotes/,
    );
    await expectRevert(owner.write({ address: vault, abi: vaultCallAbi, functionName: 'setRemote', args: [BigInt(alpha.chainId), 30_099, 99, stranger.address] }), 'InvalidRemote');
    await expectRevert(owner.write({ address: vault, abi: vaultCallAbi, functionName: 'setRemote', args: [99_999n, beta.lzEid, 99, stranger.address] }), 'RemoteIdTaken');
    await expectRevert(
      h.strangerOn(beta).write({
        address: beta.contracts.vault,
        abi: vaultCallAbi,
        functionName: 'lzReceive',
        args: [{ srcEid: alpha.lzEid, sender: pad(alpha.contracts.vault, { size: 32 }), nonce: 1n }, h.newLegId(), '0x', stranger.address, '0x'],
      }),
      'OnlyEndpoint',
    );
  });
});

describe('remote registry', () => {
  it('forgets a removed remote on both transports, and takes it back', async () => {
    const owner = h.deployerOn(gamma);
    const vault = gamma.contracts.vault;
    const registry = async () => ({
      remote: await owner.public.readContract({ address: vault, abi: vaultCallAbi, functionName: 'remote', args: [BigInt(alpha.chainId)] }),
      peer: await owner.public.readContract({ address: vault, abi: vaultCallAbi, functionName: 'peers', args: [alpha.lzEid] }),
      byEid: await owner.public.readContract({ address: vault, abi: vaultCallAbi, functionName: 'chainIdByLzEid', args: [alpha.lzEid] }),
      byWormhole: await owner.public.readContract({ address: vault, abi: vaultCallAbi, functionName: 'chainIdByWormholeChainId', args: [alpha.wormholeChainId] }),
    });
    const wired = await registry();
    await owner.write({ address: vault, abi: vaultCallAbi, functionName: 'removeRemote', args: [BigInt(alpha.chainId)] });
    try {
      const zero = pad('0x', { size: 32 });
      expect(await registry()).toEqual({ remote: { lzEid: 0, wormholeChainId: 0, peer: zero }, peer: zero, byEid: 0n, byWormhole: 0n });
      await expectRevert(owner.write({ address: vault, abi: vaultCallAbi, functionName: 'removeRemote', args: [BigInt(alpha.chainId)] }), 'UnknownRemote');
      const payload = h.payloadFor({ legId: h.newLegId(), account: traderAddress(0), deadline: await h.deadline(gamma) });
      const fromAlpha = await h.forgeVaa({ emitterChain: alpha.wormholeChainId, emitter: pad(alpha.contracts.vault, { size: 32 }), nonce: gamma.wormholeChainId, payload });
      await expectRevert(h.receiveVaa(gamma, fromAlpha), 'UnknownEmitter');
      await expectRevert(h.lzReceiveFrom({ to: gamma, from: alpha, payload }), 'NoPeer');
    } finally {
      await owner.write({ address: vault, abi: vaultCallAbi, functionName: 'setRemote', args: [BigInt(alpha.chainId), alpha.lzEid, alpha.wormholeChainId, alpha.contracts.vault] });
    }
    expect(await registry()).toEqual(wired);
  });
});

describe('sendCollateral', () => {
  it.each([
    ['layerzero', 'alpha', 'beta', usd('4000')],
    ['wormhole', 'alpha', 'gamma', 0n], // 0: exactly the account's free collateral
  ] as const)('over %s moves exactly the amount from %s to %s, conserving supply, leaving the source at or above initial margin', async (kind, fromKey, toKey, asked) => {
    const transport = h.transports[kind];
    const from = h.chain(fromKey);
    const to = h.chain(toKey);
    const account = traderAddress(0);
    const sourceBefore = await h.account(from, account);
    const amount = asked === 0n ? sourceBefore.freeCollateral : asked;
    expect(amount).toBeGreaterThan(0n);
    const targetBefore = await h.account(to, account);
    const supplyBefore = await h.totalSupply();
    const leg: Leg = { kind: 'collateral', legId: h.newLegId(), account, amount, deadline: await h.deadline(from) };
    const quote = await h.relayerOn(from).public.readContract({
      address: from.contracts.vault,
      abi: vaultCallAbi,
      functionName: 'quoteSendCollateral',
      args: [BigInt(to.chainId), account, amount, leg.legId, leg.deadline, TRANSPORT_ID[kind], kind === 'layerzero' ? h.transports.layerzero.sendOptions() : '0x'],
    });
    expect(quote).toBeGreaterThan(0n);
    expect(quote).toBe(await transport.quote({ source: from.key, destination: to.key, sender: from.contracts.vault, receiver: to.contracts.vault, payload: legPayload(leg) }));

    const message = await h.send({ transport, from, to, leg });
    expect(decodeLegPayload(message.payload)).toMatchObject({ version: 1, kind: LEG_KIND.collateral, legId: leg.legId, account, amount, size: 0n, deadline: leg.deadline });
    const sent = (await h.legEvents(from, message.txHash)).find((e) => e.eventName === 'LegSent');
    expect(sent?.args).toMatchObject({ legId: leg.legId, kind: LEG_KIND.collateral, dstChainId: BigInt(to.chainId), transport: TRANSPORT_ID[kind], account, amount, fee: quote });
    expect(sent?.args.messageRef).toBe(message.id.transport === 'layerzero' ? message.id.guid : pad(toHex(message.id.sequence), { size: 32 }));
    expect(await h.outboundStatus(from, leg.legId)).toBe(STATUS.sent);
    // In flight: burned on the source, not yet minted on the destination.
    expect(await h.totalSupply()).toBe(supplyBefore - amount);
    expect(await transport.status(message)).not.toBe('delivered');

    const delivery = await transport.deliver(message);
    const received = (await h.legEvents(to, delivery.txHash)).find((e) => e.eventName === 'LegReceived');
    expect(received?.args).toMatchObject({ legId: leg.legId, kind: LEG_KIND.collateral, srcChainId: BigInt(from.chainId), transport: TRANSPORT_ID[kind], account, amount, absorbedSize: 0n });
    expect(await transport.status(message)).toBe('delivered');
    expect(await h.inboundStatus(to, leg.legId)).toBe(STATUS.executed);
    expect(await h.totalSupply()).toBe(supplyBefore);

    const sourceAfter = await h.account(from, account);
    const targetAfter = await h.account(to, account);
    expect(sourceAfter.collateral).toBe(sourceBefore.collateral - amount);
    expect(targetAfter.collateral).toBe(targetBefore.collateral + amount);
    expect(sourceAfter.equity).toBeGreaterThanOrEqual(BigInt(sourceAfter.initialMargin));
    // Delivering again is a no-op for the transport and a refusal on chain.
    expect((await transport.deliver(message)).txHash).toBeUndefined();
  });

  it('is refused without consent, beyond free collateral, for a reused leg id, a bad destination, transport, deadline or fee', async () => {
    const relayer = h.relayerOn(alpha);
    const start = async (args: { account?: Address; amount?: bigint; legId?: Hash; dst?: bigint; deadlineAt?: bigint; transport?: number; value?: bigint }) =>
      relayer.write({
        address: alpha.contracts.vault,
        abi: vaultCallAbi,
        functionName: 'sendCollateral',
        args: [
          args.dst ?? BigInt(beta.chainId),
          args.account ?? traderAddress(4),
          args.amount ?? usd('1'),
          args.legId ?? h.newLegId(),
          args.deadlineAt ?? (await h.deadline(alpha)),
          args.transport ?? TRANSPORT_ID.wormhole,
          '0x',
        ],
        value: args.value ?? 1_000n,
        label: 'Vault',
      });
    await expectRevert(start({ account: traderAddress(1) }), 'NoCrossChainConsent');
    const free = (await h.account(alpha, traderAddress(4))).freeCollateral;
    await expectRevert(start({ amount: free + 1n }), 'InsufficientFreeCollateral');
    await expectRevert(start({ dst: 424_242n }), 'UnknownRemote');
    await expectRevert(start({ deadlineAt: await h.chainTime(alpha) }), 'DeadlineNotInFuture');
    await expectRevert(start({ transport: 3 }), 'UnsupportedTransport');
    await expectRevert(start({ value: 0n }), 'WrongWormholeFee');
    await expectRevert(start({ amount: 0n }), 'ZeroAmount');
    const legId = h.newLegId();
    await start({ legId, amount: usd('1') });
    await expectRevert(start({ legId, amount: usd('1') }), 'LegAlreadySent');
  });
});

describe('sendLiquidity', () => {
  it('over LayerZero funds the backstop on the destination, which absorbs the account’s position at oracle minus penalty', async () => {
    const account = traderAddress(2);
    await pushPrice({ signer: h.deployerOn(beta), feed: h.feedOf(beta, ETH), price: price('2900') }); // E 700 < IM 870
    const allowed = await h.maxAbsorb(beta, account, ETH);
    expect(allowed).toBeGreaterThan(0n);
    const [gammaReserve, betaReserve, supplyBefore] = [await h.reserveOf(gamma), await h.reserveOf(beta), await h.totalSupply()];
    const backstopBefore = await h.account(beta, beta.contracts.vault);
    const amount = usd('2000');
    // Ask for more than the engine allows: the destination takes over what it may, no more.
    const leg: Leg = { kind: 'liquidity', legId: h.newLegId(), account, amount, market: ETH, size: size('2'), deadline: await h.deadline(gamma) };
    const quote = await h.relayerOn(gamma).public.readContract({
      address: gamma.contracts.vault,
      abi: vaultCallAbi,
      functionName: 'quoteSendLiquidity',
      args: [BigInt(beta.chainId), account, amount, ETH, leg.size, leg.legId, leg.deadline, TRANSPORT_ID.layerzero, h.transports.layerzero.sendOptions()],
    });
    const message = await h.send({ transport: h.transports.layerzero, from: gamma, to: beta, leg });
    expect((await h.legEvents(gamma, message.txHash)).find((e) => e.eventName === 'LegSent')?.args.fee).toBe(quote);
    expect(await h.reserveOf(gamma)).toBe(gammaReserve - amount);
    const delivery = await h.transports.layerzero.deliver(message);
    const events = await h.legEvents(beta, delivery.txHash);
    const received = events.find((e) => e.eventName === 'LegReceived');
    expect(received?.args).toMatchObject({ legId: leg.legId, kind: LEG_KIND.liquidity, srcChainId: BigInt(gamma.chainId), account, amount, market: ETH, size: size('2'), absorbedSize: allowed });
    if (!delivery.txHash) throw new Error('delivered before');
    const receipt = await h.relayerOn(beta).public.getTransactionReceipt({ hash: delivery.txHash });
    const absorbed = parseEventLogs({ abi: marginEngineAbi, eventName: 'Absorbed', logs: receipt.logs })[0]?.args;
    expect(absorbed).toMatchObject({ account, backstop: beta.contracts.vault, size: allowed, oraclePrice: price('2900'), absorbPrice: price('2842') });

    expect(await h.position(beta, account, ETH)).toEqual({ size: size('3') - allowed, entryPrice: price('3000') });
    expect(await h.position(beta, beta.contracts.vault, ETH)).toEqual({ size: allowed, entryPrice: price('2842') });
    const backstopAfter = await h.account(beta, beta.contracts.vault);
    expect(backstopAfter.collateral).toBe(backstopBefore.collateral + amount);
    expect(await h.reserveOf(beta)).toBe(betaReserve);
    expect(await h.totalSupply()).toBe(supplyBefore);
    const after = await h.account(beta, account);
    expect(after.equity).toBeGreaterThanOrEqual(BigInt(after.initialMargin));
  });

  it('over Wormhole takes over a short at oracle plus penalty, exactly the size asked when allowed', async () => {
    const account = traderAddress(3);
    await pushPrice({ signer: h.deployerOn(gamma), feed: h.feedOf(gamma, BTC), price: price('62000') }); // E 400 < IM 496
    const allowed = await h.maxAbsorb(gamma, account, BTC);
    expect(allowed).toBeLessThan(0n);
    const supplyBefore = await h.totalSupply();
    const leg: Leg = { kind: 'liquidity', legId: h.newLegId(), account, amount: usd('500'), market: BTC, size: allowed, deadline: await h.deadline(alpha) };
    const message = await h.send({ transport: h.transports.wormhole, from: alpha, to: gamma, leg });
    const delivery = await h.transports.wormhole.deliver(message);
    const received = (await h.legEvents(gamma, delivery.txHash)).find((e) => e.eventName === 'LegReceived');
    expect(received?.args).toMatchObject({ absorbedSize: allowed, transport: TRANSPORT_ID.wormhole });
    expect(await h.position(gamma, gamma.contracts.vault, BTC)).toEqual({ size: allowed, entryPrice: price('62930') });
    expect(await h.totalSupply()).toBe(supplyBefore);
  });

  it('absorbs nothing from a healthy account: the funds stay in the backstop’s margin', async () => {
    const account = traderAddress(0); // healthy on beta
    const backstopBefore = await h.account(beta, beta.contracts.vault);
    const positionBefore = await h.position(beta, account, ETH);
    const leg: Leg = { kind: 'liquidity', legId: h.newLegId(), account, amount: usd('100'), market: ETH, size: size('1'), deadline: await h.deadline(alpha) };
    const message = await h.send({ transport: h.transports.wormhole, from: alpha, to: beta, leg });
    const received = (await h.legEvents(beta, (await h.transports.wormhole.deliver(message)).txHash)).find((e) => e.eventName === 'LegReceived');
    expect(received?.args.absorbedSize).toBe(0n);
    expect(await h.position(beta, account, ETH)).toEqual(positionBefore);
    expect((await h.account(beta, beta.contracts.vault)).collateral).toBe(backstopBefore.collateral + usd('100'));
  });

  it('lets the relayer, and only it, unwind the backstop’s position through the engine’s AMM', async () => {
    const held = await h.position(beta, beta.contracts.vault, ETH); // the long absorbed over LayerZero above
    expect(held.size).toBeGreaterThan(0n);
    const unwind = (signer: Signer, amount: bigint) =>
      signer.write({ address: beta.contracts.vault, abi: vaultCallAbi, functionName: 'unwindBackstop', args: [ETH, amount, 0n], label: 'Vault' });
    await expectRevert(unwind(h.strangerOn(beta), held.size), 'NotRelayer');
    const half = held.size / 2n;
    const receipt = await unwind(h.relayerOn(beta), half);
    const event = parseEventLogs({ abi: marginEngineAbi, eventName: 'BackstopUnwound', logs: receipt.logs })[0]?.args;
    // Sold into the pool centred on the oracle (2900) with depth 2000: 2900 x 2000 / (2000 + s) per unit.
    const depth = DEVNET_MARKETS[0]?.ammDepth ?? 0n;
    const quote = (half * price('2900') * depth) / (depth + half);
    expect(event).toMatchObject({ market: ETH, backstop: beta.contracts.vault, size: half, oraclePrice: price('2900'), executionPrice: quote / half, proceeds: quote / VALUE_SCALE });
    expect(await h.position(beta, beta.contracts.vault, ETH)).toEqual({ size: held.size - half, entryPrice: held.entryPrice });
  });

  it('lets the owner move the backstop’s free margin back into the reserve', async () => {
    const owner = h.deployerOn(beta);
    const backstop = await h.account(beta, beta.contracts.vault);
    expect(backstop.freeCollateral).toBeGreaterThan(0n);
    const reserve = await h.reserveOf(beta);
    const withdraw = (amount: bigint) => owner.write({ address: beta.contracts.vault, abi: vaultCallAbi, functionName: 'withdrawBackstopMargin', args: [amount], label: 'Vault' });
    await expectRevert(withdraw(backstop.freeCollateral + 1n), 'InsufficientFreeCollateral');
    await withdraw(backstop.freeCollateral);
    expect(await h.reserveOf(beta)).toBe(reserve + backstop.freeCollateral);
    expect((await h.account(beta, beta.contracts.vault)).collateral).toBe(backstop.collateral - backstop.freeCollateral);
  });

  it('is refused beyond the reserve, without a market or a size', async () => {
    const relayer = h.relayerOn(alpha);
    const start = async (amount: bigint, market: Hex, legSize: bigint) =>
      relayer.write({
        address: alpha.contracts.vault,
        abi: vaultCallAbi,
        functionName: 'sendLiquidity',
        args: [BigInt(beta.chainId), traderAddress(2), amount, market, legSize, h.newLegId(), await h.deadline(alpha), TRANSPORT_ID.wormhole, '0x'],
        value: 1_000n,
        label: 'Vault',
      });
    await expectRevert(start((await h.reserveOf(alpha)) + 1n, ETH, size('1')), 'InsufficientReserve');
    await expectRevert(start(usd('1'), `0x${'0'.repeat(64)}`, size('1')), 'InvalidMarket');
    await expectRevert(start(usd('1'), ETH, 0n), 'ZeroSize');
  });
});

describe('the whole devnet afterwards', () => {
  it('holds exactly the supply issued, less what is in flight: every leg burned was minted once, or refunded', async () => {
    await h.expectSupplyConserved();
  });

  it('rebuilds every account on every chain from logs alone, equal to the views', async () => {
    await h.expectLogsRebuildEveryChain();
  });
});

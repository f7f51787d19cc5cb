/**
 * What a receiving vault refuses, on the real LayerZero V2 and Wormhole contracts of a 3-chain
 * devnet: replays, forged senders, unknown versions and kinds, expired legs. Every refusal is
 * checked to change nothing; an expired leg is canceled at its destination and refunded once
 * at its source.
 */
import { decodeErrorResult, pad, type Hex } from 'viem';
import { generatePrivateKey } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { marginEngineAbi } from '../../chains/contracts/out/MarginEngine.js';
import { messageProbeAbi } from '../../chains/contracts/out/MessageProbe.js';
import { anvilControl } from '../../chains/devnet/control.js';
import { devnetAccount, devnetRoles } from '../../chains/devnet/keys.js';
import type { ManifestChain } from '../../chains/devnet/manifest.js';
import { endpointAbi } from '../../chains/messaging/layerzero/abi.js';
import { vaultCallAbi } from '../../chains/protocol/abi.js';
import { cancelLeg, type Leg } from '../../chains/protocol/legs.js';
import { LEG_KIND, TRANSPORT_ID } from '../../chains/protocol/payload.js';
import { size, usd } from '../../chains/protocol/units.js';
import { Signer } from '../../chains/signer.js';
import { RelayerError } from '../../relayer/errors.js';
import { ETH, ProtocolHarness, STATUS, traderAddress } from './protocol-harness.js';
import { expectLzRejected, expectRevert } from './support.js';

let h: ProtocolHarness;
let alpha: ManifestChain;
let beta: ManifestChain;
let gamma: ManifestChain;

beforeAll(async () => {
  h = await ProtocolHarness.start();
  ({ alpha, beta, gamma } = h);
  // An account with surplus it lets move, on alpha.
  await h.seed({ accounts: [{ trader: 4, chain: 'alpha', deposit: '10000', crossChainConsent: true }] });
});

afterAll(async () => {
  await h?.stop();
});

describe('a receiving vault', () => {
  const account = () => traderAddress(4);

  it('refuses a replayed Wormhole VAA, and a replayed leg id under a new VAA, changing nothing', async () => {
    const leg: Leg = { kind: 'collateral', legId: h.newLegId(), account: account(), amount: usd('10'), deadline: await h.deadline(alpha) };
    const message = await h.send({ transport: h.transports.wormhole, from: alpha, to: beta, leg });
    await h.transports.wormhole.deliver(message);
    const published = await h.publishedOf(alpha, message);
    const before = await h.snapshot(beta, account());
    const original = await h.forgeVaa(published); // the very VAA delivered: same body, same signer
    await expectRevert(h.receiveVaa(beta, original), 'VaaAlreadyConsumed');
    // Same payload (same leg id) in a VAA with another sequence: a new VAA hash, the same leg.
    await expectRevert(h.receiveVaa(beta, await h.forgeVaa({ ...published, sequence: published.sequence + 500n })), 'LegAlreadyProcessed');
    expect(await h.snapshot(beta, account())).toEqual(before);
  });

  it('refuses a LayerZero replay: the endpoint refuses the packet, the vault refuses the leg id under a new GUID', async () => {
    const leg: Leg = { kind: 'collateral', legId: h.newLegId(), account: account(), amount: usd('10'), deadline: await h.deadline(alpha) };
    const message = await h.send({ transport: h.transports.layerzero, from: alpha, to: beta, leg });
    await h.transports.layerzero.deliver(message);
    if (message.id.transport !== 'layerzero') throw new Error('not a LayerZero message');
    const before = await h.snapshot(beta, account());
    const origin = { srcEid: alpha.lzEid, sender: pad(alpha.contracts.vault, { size: 32 }), nonce: message.id.nonce };
    await expectRevert(
      h.relayerOn(beta).write({ address: beta.contracts.lzEndpoint, abi: endpointAbi, functionName: 'lzReceive', args: [origin, beta.contracts.vault, message.id.guid, message.payload, '0x'] }),
      'LZ_PayloadHashNotFound',
    );
    await expectLzRejected(h.lzReceiveFrom({ to: beta, from: alpha, payload: message.payload }), 'LegAlreadyProcessed');
    expect(await h.snapshot(beta, account())).toEqual(before);
  });

  it('refuses forged senders: a wrong LayerZero peer, an unknown Wormhole emitter or chain, a VAA for another chain or not signed by the guardians', async () => {
    const legId = h.newLegId();
    const payload = h.payloadFor({ legId, account: account(), deadline: await h.deadline(beta) });
    const before = await h.snapshot(beta, account());

    // The probe on alpha made to point at beta's vault: a real packet, from a sender that is not the peer.
    const probeOwner = h.relayerOn(alpha);
    await probeOwner.write({ address: alpha.contracts.messageProbe, abi: messageProbeAbi, functionName: 'setPeer', args: [beta.lzEid, pad(beta.contracts.vault, { size: 32 })] });
    const forged = await h.transports.layerzero.send({
      source: alpha.key,
      destination: beta.key,
      sender: alpha.contracts.messageProbe,
      receiver: beta.contracts.vault,
      payload,
      submit: (fee) =>
        probeOwner.write({ address: alpha.contracts.messageProbe, abi: messageProbeAbi, functionName: 'sendLayerZero', args: [beta.lzEid, payload, h.transports.layerzero.sendOptions()], value: fee }),
    });
    // The endpoint asks the receiver whether the path may open: the vault only trusts its peer,
    // so the verification cannot even be committed (LZ_PathNotInitializable).
    await expect(h.transports.layerzero.deliver(forged)).rejects.toThrow(`commitVerification at ${beta.contracts.lzReceiveUln302} on chain ${beta.chainId} failed: reverted with LZ_PathNotInitializable()`);
    // And were it delivered, the OApp itself refuses a sender that is not its peer.
    await expectRevert(h.lzReceiveFrom({ to: beta, from: alpha, sender: alpha.contracts.messageProbe, payload }), 'OnlyPeer');

    const vaultEmitter = pad(alpha.contracts.vault, { size: 32 });
    await expectRevert(h.receiveVaa(beta, await h.forgeVaa({ emitterChain: alpha.wormholeChainId, emitter: pad(alpha.contracts.messageProbe, { size: 32 }), nonce: beta.wormholeChainId, payload })), 'UnknownEmitter');
    await expectRevert(h.receiveVaa(beta, await h.forgeVaa({ emitterChain: 6, emitter: vaultEmitter, nonce: beta.wormholeChainId, payload })), 'UnknownEmitter');
    await expectRevert(h.receiveVaa(beta, await h.forgeVaa({ emitterChain: alpha.wormholeChainId, emitter: vaultEmitter, nonce: gamma.wormholeChainId, payload })), 'WrongDestination');
    await expectRevert(
      h.receiveVaa(beta, await h.forgeVaa({ emitterChain: alpha.wormholeChainId, emitter: vaultEmitter, nonce: beta.wormholeChainId, payload }, [generatePrivateKey()])),
      'InvalidVaa',
    );
    expect(await h.snapshot(beta, account())).toEqual(before);
    expect(await h.inboundStatus(beta, legId)).toBe(STATUS.none);
  });

  it('refuses an unknown version, an unknown kind or a malformed payload from the genuine peer, on both transports', async () => {
    const legId = h.newLegId();
    const valid = { legId, account: account(), deadline: await h.deadline(beta) };
    const before = await h.snapshot(beta, account());
    const cases: [Hex, string][] = [
      [h.payloadFor({ ...valid, version: 2 }), 'UnsupportedPayloadVersion'],
      [h.payloadFor({ ...valid, kind: 9 }), 'UnsupportedLegKind'],
      [`${h.payloadFor(valid)}00`, 'MalformedPayload'],
    ];
    const emitter = pad(alpha.contracts.vault, { size: 32 });
    for (const [payload, error] of cases) {
      await expectLzRejected(h.lzReceiveFrom({ to: beta, from: alpha, payload }), error);
      await expectRevert(h.receiveVaa(beta, await h.forgeVaa({ emitterChain: alpha.wormholeChainId, emitter, nonce: beta.wormholeChainId, payload })), error);
    }
    expect(await h.snapshot(beta, account())).toEqual(before);
    expect(await h.inboundStatus(beta, legId)).toBe(STATUS.none);
  });

  it('refuses an expired leg; the relayer cancels it there and the refund mints it back at the source, once', async () => {
    const leg: Leg = { kind: 'collateral', legId: h.newLegId(), account: account(), amount: usd('25'), deadline: (await h.chainTime(alpha)) + 30n };
    const sourceBefore = await h.account(alpha, account());
    const supplyBefore = await h.totalSupply();
    const message = await h.send({ transport: h.transports.wormhole, from: alpha, to: beta, leg });
    const control = anvilControl(h.endpointOf(beta));
    await control.increaseTime({ seconds: 120 });
    await control.mine({ blocks: 1 });
    const before = await h.snapshot(beta, account());
    await expect(h.transports.wormhole.deliver(message)).rejects.toThrow(/reverted with LegExpired\(/);
    expect(await h.snapshot(beta, account())).toEqual(before);
    expect(await h.inboundStatus(beta, leg.legId)).toBe(STATUS.none);
    expect(await h.totalSupply()).toBe(supplyBefore - leg.amount);

    // Cancel on the destination (over LayerZero this time), deliver the refund to the source.
    const cancelQuote = await h.relayerOn(beta).public.readContract({
      address: beta.contracts.vault,
      abi: vaultCallAbi,
      functionName: 'quoteCancelLeg',
      args: [BigInt(alpha.chainId), leg.legId, TRANSPORT_ID.layerzero, h.transports.layerzero.sendOptions()],
    });
    const refund = await cancelLeg({ signer: h.relayerOn(beta), transport: h.transports.layerzero, from: beta, to: alpha, legId: leg.legId });
    expect((await h.legEvents(beta, refund.txHash)).find((e) => e.eventName === 'LegCanceled')?.args).toMatchObject({ legId: leg.legId, srcChainId: BigInt(alpha.chainId), fee: cancelQuote });
    expect(await h.inboundStatus(beta, leg.legId)).toBe(STATUS.canceled);
    const delivery = await h.transports.layerzero.deliver(refund);
    const refunded = (await h.legEvents(alpha, delivery.txHash)).find((e) => e.eventName === 'LegRefunded');
    expect(refunded?.args).toMatchObject({ legId: leg.legId, kind: LEG_KIND.collateral, dstChainId: BigInt(beta.chainId), account: account(), amount: leg.amount });
    expect(await h.outboundStatus(alpha, leg.legId)).toBe(STATUS.refunded);
    expect((await h.account(alpha, account())).collateral).toBe(sourceBefore.collateral);
    expect(await h.totalSupply()).toBe(supplyBefore);

    // The canceled leg can never execute, and the refund is not paid twice.
    await expect(h.transports.wormhole.deliver(message)).rejects.toThrow(/reverted with LegAlreadyProcessed\(/);
    await expectLzRejected(h.lzReceiveFrom({ to: alpha, from: beta, payload: refund.payload }), 'RefundNotExpected');
    await expectLzRejected(h.lzReceiveFrom({ to: alpha, from: gamma, payload: refund.payload }), 'RefundNotExpected');
    // Canceling again resends a refund (say, one lost or sent to the wrong chain): the source still pays once.
    const again = await cancelLeg({ signer: h.relayerOn(beta), transport: h.transports.wormhole, from: beta, to: alpha, legId: leg.legId });
    await expect(h.transports.wormhole.deliver(again)).rejects.toThrow(/reverted with RefundNotExpected\(/);
    expect((await h.account(alpha, account())).collateral).toBe(sourceBefore.collateral);
    expect(await h.totalSupply()).toBe(supplyBefore);
  });

  it('refuses to cancel a leg it executed', async () => {
    const leg: Leg = { kind: 'collateral', legId: h.newLegId(), account: account(), amount: usd('5'), deadline: await h.deadline(alpha) };
    await h.transports.layerzero.deliver(await h.send({ transport: h.transports.layerzero, from: alpha, to: beta, leg }));
    await expectRevert(
      h.relayerOn(beta).write({ address: beta.contracts.vault, abi: vaultCallAbi, functionName: 'cancelLeg', args: [BigInt(alpha.chainId), leg.legId, TRANSPORT_ID.wormhole, '0x'], value: 1_000n }),
      'LegAlreadyProcessed',
    );
  });
});

describe('a vault whose engine is paused', () => {
  const account = () => traderAddress(4);
  const pause = (chain: ManifestChain, paused: boolean) =>
    new Signer(h.endpointOf(chain), devnetAccount(devnetRoles.guardian)).write({
      address: chain.contracts.marginEngine,
      abi: marginEngineAbi,
      functionName: 'setPaused',
      args: [paused],
      label: 'MarginEngine',
    });

  it('executes no leg while paused, and the deliveries wait: both land once the guardian resumes', async () => {
    const legOf = async (): Promise<Leg> => ({ kind: 'collateral', legId: h.newLegId(), account: account(), amount: usd('10'), deadline: await h.deadline(alpha) });
    const [overLz, overWormhole] = [await legOf(), await legOf()];
    const lzMessage = await h.send({ transport: h.transports.layerzero, from: alpha, to: beta, leg: overLz });
    const wormholeMessage = await h.send({ transport: h.transports.wormhole, from: alpha, to: beta, leg: overWormhole });
    await pause(beta, true);
    const before = await h.snapshot(beta, account());
    // LayerZero: lzReceive reverts as a whole (no LegRejected), so the packet stays verified and retryable.
    const refused = await h.transports.layerzero.deliver(lzMessage).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RelayerError);
    const reason = (refused as RelayerError).details?.replace('lzReceive failed: ', '') as Hex;
    expect(decodeErrorResult({ abi: vaultCallAbi, data: reason }).errorName).toBe('EnginePaused');
    expect(await h.transports.layerzero.status(lzMessage)).toBe('verified');
    // Wormhole: the delivery reverts and the VAA stays unconsumed.
    await expect(h.transports.wormhole.deliver(wormholeMessage)).rejects.toThrow(/reverted with EnginePaused\(/);
    expect(await h.snapshot(beta, account())).toEqual(before);
    expect([await h.inboundStatus(beta, overLz.legId), await h.inboundStatus(beta, overWormhole.legId)]).toEqual([STATUS.none, STATUS.none]);

    // Deposits go on while paused.
    await h.seed({ accounts: [{ trader: 5, chain: 'beta', deposit: '100' }] });
    expect((await h.account(beta, traderAddress(5))).collateral).toBe(usd('100'));

    await pause(beta, false);
    await h.transports.layerzero.deliver(lzMessage);
    await h.transports.wormhole.deliver(wormholeMessage);
    expect([await h.inboundStatus(beta, overLz.legId), await h.inboundStatus(beta, overWormhole.legId)]).toEqual([STATUS.executed, STATUS.executed]);
    expect((await h.account(beta, account())).collateral).toBe(before.account.collateral + usd('20'));
  });

  it('starts and cancels no leg while paused', async () => {
    await pause(alpha, true);
    const deadline = await h.deadline(alpha);
    const collateral: Leg = { kind: 'collateral', legId: h.newLegId(), account: account(), amount: usd('1'), deadline };
    const liquidity: Leg = { kind: 'liquidity', legId: h.newLegId(), account: account(), amount: usd('1'), market: ETH, size: size('1'), deadline };
    for (const transport of [h.transports.layerzero, h.transports.wormhole]) {
      await expect(h.send({ transport, from: alpha, to: beta, leg: collateral })).rejects.toThrow(/reverted with EnginePaused\(/);
      await expect(h.send({ transport, from: alpha, to: beta, leg: liquidity })).rejects.toThrow(/reverted with EnginePaused\(/);
    }
    await expect(cancelLeg({ signer: h.relayerOn(alpha), transport: h.transports.wormhole, from: alpha, to: beta, legId: h.newLegId() })).rejects.toThrow(/reverted with EnginePaused\(/);
    await pause(alpha, false);
    expect(await h.outboundStatus(alpha, collateral.legId)).toBe(STATUS.none);
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

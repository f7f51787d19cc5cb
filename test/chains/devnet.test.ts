import { mocks } from '@wormhole-foundation/sdk-definitions/testing';
import { bytesToHex, hexToBytes, pad, toHex, type Hex } from 'viem';
import { generatePrivateKey } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageProbeAbi } from '../../chains/contracts/out/MessageProbe.js';
import { startDevnet, type Devnet } from '../../chains/devnet/devnet.js';
import { devnetAccount, devnetRoles } from '../../chains/devnet/keys.js';
import { LZ_CONFIRMATIONS } from '../../chains/devnet/layerzero.js';
import type { ManifestChain } from '../../chains/devnet/manifest.js';
import { probeReceipts, proveTransports, sendProbe } from '../../chains/devnet/probe.js';
import { devnetTransports, type DevnetTransports } from '../../chains/devnet/transports.js';
import { WORMHOLE_CORE_ADDRESS } from '../../chains/devnet/wormhole.js';
import { endpointAbi } from '../../chains/messaging/layerzero/abi.js';
import { verifyAsDvn } from '../../chains/messaging/layerzero/dvn.js';
import { executeAsExecutor } from '../../chains/messaging/layerzero/executor.js';
import { decodePacketsSent, type LzPacket } from '../../chains/messaging/layerzero/packet.js';
import { wormholeCoreAbi } from '../../chains/messaging/wormhole/abi.js';
import { DEVNET_GUARDIAN } from '../../chains/messaging/wormhole/guardian.js';
import { decodeMessagesPublished, type WormholeMessage } from '../../chains/messaging/wormhole/message.js';
import { DevnetGuardianVaaSource } from '../../chains/messaging/wormhole/vaa-source.js';
import type { OutboundMessage } from '../../chains/messaging/transport.js';
import { isAlive } from './processes.js';

let devnet: Devnet;
let transports: DevnetTransports;
let alpha: ManifestChain;
let beta: ManifestChain;

beforeAll(async () => {
  devnet = await startDevnet({ chains: 3 });
  transports = devnetTransports({ manifest: devnet.manifest });
  [alpha, beta] = devnet.manifest.chains as [ManifestChain, ManifestChain];
});

afterAll(async () => {
  await devnet?.stop();
});

const signerOn = (chain: ManifestChain) => {
  const signer = transports.relayers.get(chain.key);
  if (!signer) throw new Error(`no signer on ${chain.key}`);
  return signer;
};
let counter = 0;
const uniquePayload = (label: string): Hex => toHex(`${label} #${(counter += 1)}`);

async function packetOf(message: OutboundMessage): Promise<LzPacket> {
  const receipt = await signerOn(alpha).public.getTransactionReceipt({ hash: message.txHash });
  const packet = decodePacketsSent({ endpoint: alpha.contracts.lzEndpoint, logs: receipt.logs }).find((p) => p.message === message.payload);
  if (!packet) throw new Error('no packet');
  return packet;
}

async function publishedOf(message: OutboundMessage): Promise<WormholeMessage & { timestamp: number }> {
  const client = signerOn(alpha).public;
  const receipt = await client.getTransactionReceipt({ hash: message.txHash });
  const published = decodeMessagesPublished({ core: alpha.contracts.wormholeCore, emitterChain: alpha.wormholeChainId, logs: receipt.logs })[0];
  if (!published) throw new Error('no published message');
  const block = await client.getBlock({ blockHash: receipt.blockHash });
  return { ...published, timestamp: Number(block.timestamp) };
}

/** Calls the endpoint's permissionless lzReceive for a packet from alpha to beta, bypassing the executor. */
const lzReceiveDirectly = (packet: LzPacket) =>
  signerOn(beta).write({
    address: beta.contracts.lzEndpoint,
    abi: endpointAbi,
    functionName: 'lzReceive',
    args: [{ srcEid: alpha.lzEid, sender: pad(alpha.contracts.messageProbe, { size: 32 }), nonce: packet.nonce }, beta.contracts.messageProbe, packet.guid, packet.message, '0x'],
  });

const deliverVaa = (vaa: Hex) =>
  signerOn(beta).write({ address: beta.contracts.messageProbe, abi: messageProbeAbi, functionName: 'receiveWormholeMessage', args: [vaa], label: 'MessageProbe' });

describe('a 3-chain devnet', () => {
  it('runs three chains with distinct ids, each answering with its own chain id', async () => {
    const chains = devnet.manifest.chains;
    expect(chains.map((c) => c.key)).toEqual(['alpha', 'beta', 'gamma']);
    expect(new Set(chains.map((c) => c.chainId)).size).toBe(3);
    expect(chains.map((c) => c.lzEid)).toEqual([30001, 30002, 30003]);
    expect(chains.map((c) => c.wormholeChainId)).toEqual([2, 4, 5]);
    for (const chain of chains) expect(await signerOn(chain).public.getChainId()).toBe(chain.chainId);
  });

  it('has the real Wormhole core installed with the devnet guardian on each chain', async () => {
    for (const chain of devnet.manifest.chains) {
      const client = signerOn(chain).public;
      expect(chain.contracts.wormholeCore).toBe(WORMHOLE_CORE_ADDRESS);
      expect(await client.readContract({ address: WORMHOLE_CORE_ADDRESS, abi: wormholeCoreAbi, functionName: 'chainId' })).toBe(chain.wormholeChainId);
      const set = await client.readContract({ address: WORMHOLE_CORE_ADDRESS, abi: wormholeCoreAbi, functionName: 'getGuardianSet', args: [0] });
      expect(set.keys).toEqual([DEVNET_GUARDIAN.address]);
    }
  });

  it('quotes real, non-zero LayerZero fees on every path, matching what the endpoint charges', async () => {
    for (const from of devnet.manifest.chains) {
      for (const to of devnet.manifest.chains.filter((c) => c.key !== from.key)) {
        const fee = await transports.layerzero.quote({ source: from.key, destination: to.key, sender: from.contracts.messageProbe, receiver: to.contracts.messageProbe, payload: '0x01' });
        expect(fee).toBeGreaterThan(0n);
      }
    }
    // Paying one wei less than the quote is refused by the endpoint.
    const payload = uniquePayload('underpaid');
    const fee = await transports.layerzero.quote({ source: 'alpha', destination: 'beta', sender: alpha.contracts.messageProbe, receiver: beta.contracts.messageProbe, payload });
    await expect(
      signerOn(alpha).write({ address: alpha.contracts.messageProbe, abi: messageProbeAbi, functionName: 'sendLayerZero', args: [beta.lzEid, payload, transports.layerzero.sendOptions()], value: fee - 1n }),
    ).rejects.toThrow(/sendLayerZero/);
  });

  it('delivers a message from each chain to each other chain over each transport, exactly once with its payload', async () => {
    const results = await proveTransports({ transports, chains: devnet.manifest.chains });
    expect(results).toHaveLength(12);
    expect(results.filter((r) => r.transport === 'layerzero')).toHaveLength(6);
    expect(new Set(results.map((r) => `${r.transport}:${r.from}:${r.to}`)).size).toBe(12);
  });
});

describe('LayerZero on the devnet', () => {
  it('delivers packets of a path in nonce order: a later message waits for, then carries, the earlier one', async () => {
    const first = await sendProbe({ transports, transport: transports.layerzero, from: alpha, to: beta, payload: uniquePayload('first') });
    const second = await sendProbe({ transports, transport: transports.layerzero, from: alpha, to: beta, payload: uniquePayload('second') });
    expect(await transports.layerzero.status(first)).toBe('sent');
    await transports.layerzero.deliver(second);
    expect(await transports.layerzero.status(first)).toBe('delivered');
    expect(await transports.layerzero.status(second)).toBe('delivered');
    expect(await probeReceipts({ transports, message: first, to: beta })).toHaveLength(1);
    expect(await probeReceipts({ transports, message: second, to: beta })).toHaveLength(1);
  });

  it('refuses a second delivery of the same packet on chain', async () => {
    const message = await sendProbe({ transports, transport: transports.layerzero, from: alpha, to: beta, payload: uniquePayload('replay') });
    const delivered = await transports.layerzero.deliver(message);
    expect(delivered.txHash).toBeDefined();
    // Asking again is a no-op for the node...
    expect((await transports.layerzero.deliver(message)).txHash).toBeUndefined();
    // ...and the endpoint itself refuses a replay, through the executor or directly.
    const packet = await packetOf(message);
    await expect(
      executeAsExecutor({ admin: signerOn(beta), executor: beta.contracts.lzExecutor, endpoint: beta.contracts.lzEndpoint, packet }),
    ).rejects.toThrow(/was not delivered/);
    await expect(lzReceiveDirectly(packet)).rejects.toThrow(/LZ_PayloadHashNotFound/);
    expect(await probeReceipts({ transports, message, to: beta })).toHaveLength(1);
  });

  it('refuses a tampered payload (payload hash mismatch), then delivers the real one', async () => {
    const message = await sendProbe({ transports, transport: transports.layerzero, from: alpha, to: beta, payload: uniquePayload('tamper') });
    const packet = await packetOf(message);
    await verifyAsDvn({ admin: signerOn(beta), dvnSigner: devnetAccount(devnetRoles.dvnSigner), deployment: { dvn: beta.contracts.lzDvn, dvnVid: beta.lzDvnVid, receiveUln: beta.contracts.lzReceiveUln302 }, packet, confirmations: LZ_CONFIRMATIONS });
    expect(await transports.layerzero.status(message)).toBe('verified');
    const tampered = { ...packet, message: toHex('forged payload') };
    await expect(
      executeAsExecutor({ admin: signerOn(beta), executor: beta.contracts.lzExecutor, endpoint: beta.contracts.lzEndpoint, packet: tampered }),
    ).rejects.toThrow(/was not delivered/);
    await expect(lzReceiveDirectly(tampered)).rejects.toThrow(/LZ_PayloadHashNotFound/);
    expect(await transports.layerzero.status(message)).toBe('verified');
    await transports.layerzero.deliver(message);
    const received = await probeReceipts({ transports, message, to: beta });
    expect(received).toHaveLength(1);
    expect(received[0]?.args.payload).toBe(message.payload);
  });

  it('refuses a verification signed by a key that is not the DVN signer', async () => {
    const message = await sendProbe({ transports, transport: transports.layerzero, from: alpha, to: beta, payload: uniquePayload('bad dvn') });
    const packet = await packetOf(message);
    await expect(
      verifyAsDvn({ admin: signerOn(beta), dvnSigner: devnetAccount(devnetRoles.firstTrader), deployment: { dvn: beta.contracts.lzDvn, dvnVid: beta.lzDvnVid, receiveUln: beta.contracts.lzReceiveUln302 }, packet, confirmations: LZ_CONFIRMATIONS }),
    ).rejects.toThrow(/signatures rejected/);
    expect(await transports.layerzero.status(message)).toBe('sent');
    await transports.layerzero.deliver(message);
    expect(await transports.layerzero.status(message)).toBe('delivered');
  });
});

describe('Wormhole on the devnet', () => {
  it('refuses a second delivery of the same VAA on chain', async () => {
    const message = await sendProbe({ transports, transport: transports.wormhole, from: alpha, to: beta, payload: uniquePayload('wh replay') });
    expect(await transports.wormhole.status(message)).toBe('sent');
    await transports.wormhole.deliver(message);
    expect(await transports.wormhole.status(message)).toBe('delivered');
    expect((await transports.wormhole.deliver(message)).txHash).toBeUndefined();
    const vaa = await new DevnetGuardianVaaSource().signedVaa(await publishedOf(message));
    await expect(deliverVaa(vaa)).rejects.toThrow(/VaaAlreadyConsumed/);
    expect(await probeReceipts({ transports, message, to: beta })).toHaveLength(1);
  });

  it('refuses a VAA with a tampered payload, a non-guardian signature, or from an unknown emitter', async () => {
    const message = await sendProbe({ transports, transport: transports.wormhole, from: alpha, to: beta, payload: uniquePayload('wh tamper') });
    const published = await publishedOf(message);
    const genuine = hexToBytes(await new DevnetGuardianVaaSource().signedVaa(published));

    const tampered = genuine.slice();
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 0xff;
    await expect(deliverVaa(bytesToHex(tampered))).rejects.toThrow(/InvalidVaa/);

    const stranger = new DevnetGuardianVaaSource({ guardianKeys: [generatePrivateKey()] });
    await expect(deliverVaa(await stranger.signedVaa(published))).rejects.toThrow(/InvalidVaa/);

    const otherEmitter = pad(devnetAccount(devnetRoles.firstTrader).address.toLowerCase() as Hex, { size: 32 });
    await expect(deliverVaa(await new DevnetGuardianVaaSource().signedVaa({ ...published, emitter: otherEmitter }))).rejects.toThrow(/UnknownEmitter/);

    await expect(deliverVaa('0x0102')).rejects.toThrow(/receiveWormholeMessage/);
    expect(await transports.wormhole.status(message)).toBe('sent');
    await transports.wormhole.deliver(message);
    expect(await probeReceipts({ transports, message, to: beta })).toHaveLength(1);
  });

  it('signs as the guardians do: the SDK devnet set and the explicit devnet key give the same VAA', async () => {
    const message = await sendProbe({ transports, transport: transports.wormhole, from: alpha, to: beta, payload: uniquePayload('wh same') });
    const published = await publishedOf(message);
    const viaSdk = await new DevnetGuardianVaaSource().signedVaa(published);
    const viaKey = await new DevnetGuardianVaaSource({ guardianKeys: [DEVNET_GUARDIAN.privateKey] }).signedVaa(published);
    expect(viaKey).toBe(viaSdk);
    expect(mocks.devnetGuardianSet().signers).toHaveLength(1);
  });
});

describe('two nodes delivering one message at once', () => {
  // A second node (or a re-drive) racing the first: both must report it delivered, and the
  // receiver must see it once. The second node has its own transports and signers (the
  // devnet's executor and DVN roles belong to the relayer key, so it shares that key).
  it('over LayerZero: both report it delivered, the receiver sees it once', async () => {
    const other = devnetTransports({ manifest: devnet.manifest });
    const message = await sendProbe({ transports, transport: transports.layerzero, from: alpha, to: beta, payload: uniquePayload('race lz') });
    const results = await Promise.all([transports.layerzero.deliver(message), other.layerzero.deliver(message)]);
    expect(results.map((r) => r.status)).toEqual(['delivered', 'delivered']);
    expect(await transports.layerzero.status(message)).toBe('delivered');
    expect(await probeReceipts({ transports, message, to: beta })).toHaveLength(1);
  });

  it('over Wormhole: a node that found the VAA unconsumed, then lost the race, reports it delivered', async () => {
    const message = await sendProbe({ transports, transport: transports.wormhole, from: alpha, to: beta, payload: uniquePayload('race wh') });
    let first: Promise<unknown> | undefined;
    // The late node's guardian API answers only after the first node's delivery landed.
    const late = devnetTransports({
      manifest: devnet.manifest,
      vaaSource: { signedVaa: async (published) => (await first, new DevnetGuardianVaaSource().signedVaa(published)) },
    });
    const lateDelivery = late.wormhole.deliver(message);
    first = transports.wormhole.deliver(message);
    const [winner, loser] = await Promise.all([first as Promise<{ txHash: unknown }>, lateDelivery]);
    expect(winner.txHash).toBeDefined();
    expect(loser).toEqual({ status: 'delivered', txHash: undefined });
    expect(await probeReceipts({ transports, message, to: beta })).toHaveLength(1);
  });
});

describe('stopping the devnet', () => {
  it('leaves no anvil process behind', async () => {
    const pids = devnet.anvils.map((anvil) => anvil.pid);
    expect(pids.every(isAlive)).toBe(true);
    await devnet.stop();
    expect(pids.filter(isAlive)).toEqual([]);
    await devnet.stop(); // safe twice
  });
});

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toHex, type Hex } from 'viem';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDevnet, type Devnet } from '../../chains/devnet/devnet.js';
import type { ManifestChain } from '../../chains/devnet/manifest.js';
import { probeReceipts, sendProbe } from '../../chains/devnet/probe.js';
import { devnetTransports, type DevnetTransports } from '../../chains/devnet/transports.js';
import { decodeMessagesPublished } from '../../chains/messaging/wormhole/message.js';
import { DevnetGuardianVaaSource, WormholescanVaaSource, type PublishedMessage } from '../../chains/messaging/wormhole/vaa-source.js';
import type { OutboundMessage } from '../../chains/messaging/transport.js';
import { RelayerError } from '../../relayer/errors.js';

/**
 * A local stand-in for Wormholescan's signed-VAA endpoint: it signs with the devnet guardian
 * what the test has published, and can be told to answer "not yet", to fail, or to lie.
 */
class WormholescanStandIn {
  readonly requests: string[] = [];
  readonly published = new Map<string, PublishedMessage>();
  behaviour: { notYet: number; mode: 'honest' | 'lie' | 'garbage' | 'error' | 'never' } = { notYet: 0, mode: 'honest' };
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      void this.answer(request.url ?? '').then(([status, body]) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private async answer(url: string): Promise<[number, unknown]> {
    this.requests.push(url);
    const match = /^\/api\/v1\/signed_vaa\/(\d+)\/([0-9a-f]{64})\/(\d+)$/.exec(url);
    const message = match ? this.published.get(`${match[1]}/${match[2]}/${match[3]}`) : undefined;
    if (!message || this.behaviour.mode === 'never') return [404, { message: 'not found' }];
    if (this.behaviour.notYet > 0) {
      this.behaviour.notYet -= 1;
      return [404, { message: 'not found' }];
    }
    if (this.behaviour.mode === 'error') return [500, { message: 'internal error' }];
    if (this.behaviour.mode === 'garbage') return [200, { vaaBytes: Buffer.from('not a vaa').toString('base64') }];
    const signed = await new DevnetGuardianVaaSource().signedVaa(
      this.behaviour.mode === 'lie' ? { ...message, payload: toHex('a different message') } : message,
    );
    return [200, { vaaBytes: Buffer.from(signed.slice(2), 'hex').toString('base64') }];
  }
}

let devnet: Devnet;
let api: WormholescanStandIn;
let transports: DevnetTransports;
let alpha: ManifestChain;
let beta: ManifestChain;

beforeAll(async () => {
  devnet = await startDevnet({ chains: 2 });
  api = new WormholescanStandIn();
  const apiUrl = await api.start();
  transports = devnetTransports({ manifest: devnet.manifest, vaaSource: new WormholescanVaaSource({ apiUrl, timeoutMs: 1_000, pollMs: 20 }) });
  [alpha, beta] = devnet.manifest.chains as [ManifestChain, ManifestChain];
});

afterAll(async () => {
  await api?.stop();
  await devnet?.stop();
});

beforeEach(() => {
  api.requests.length = 0;
  api.behaviour = { notYet: 0, mode: 'honest' };
});

let counter = 0;
async function publish(): Promise<OutboundMessage> {
  const message = await sendProbe({ transports, transport: transports.wormhole, from: alpha, to: beta, payload: toHex(`via api ${(counter += 1)}`) as Hex });
  const client = transports.relayers.get('alpha')?.public;
  if (!client) throw new Error('no client');
  const receipt = await client.getTransactionReceipt({ hash: message.txHash });
  const [published] = decodeMessagesPublished({ core: alpha.contracts.wormholeCore, emitterChain: alpha.wormholeChainId, logs: receipt.logs });
  if (!published) throw new Error('nothing published');
  const block = await client.getBlock({ blockHash: receipt.blockHash });
  api.published.set(`${published.emitterChain}/${published.emitter.slice(2)}/${published.sequence}`, { ...published, timestamp: Number(block.timestamp) });
  return message;
}

describe('fetching VAAs from a Wormholescan-compatible API (the live-network path)', () => {
  it('asks for /v1/signed_vaa/{chain}/{emitter}/{sequence}, waits out "not yet", and delivers the VAA', async () => {
    const message = await publish();
    api.behaviour.notYet = 2;
    await transports.wormhole.deliver(message);
    expect(api.requests).toHaveLength(3);
    const id = message.id.transport === 'wormhole' ? message.id : undefined;
    expect(api.requests[0]).toBe(`/api/v1/signed_vaa/${alpha.wormholeChainId}/${id?.emitter.slice(2)}/${id?.sequence}`);
    expect(await transports.wormhole.status(message)).toBe('delivered');
    expect(await probeReceipts({ transports, message, to: beta })).toHaveLength(1);
  });

  it('refuses a VAA whose body is not the published message, and delivers nothing', async () => {
    const message = await publish();
    api.behaviour.mode = 'lie';
    await expect(transports.wormhole.deliver(message)).rejects.toThrow(/body is not the published message/);
    api.behaviour.mode = 'garbage';
    await expect(transports.wormhole.deliver(message)).rejects.toThrow(/unparsable VAA/);
    expect(await transports.wormhole.status(message)).toBe('sent');
    expect(await probeReceipts({ transports, message, to: beta })).toHaveLength(0);
  });

  it('reports an API failure and a VAA that never comes as retryable errors', async () => {
    const message = await publish();
    api.behaviour.mode = 'error';
    const failed = await transports.wormhole.deliver(message).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(RelayerError);
    expect((failed as RelayerError).retryable).toBe(true);
    expect((failed as RelayerError).shortMessage).toMatch(/fetching VAA .* failed/);

    api.behaviour.mode = 'never';
    const timedOut = await transports.wormhole.deliver(message).catch((error: unknown) => error);
    expect((timedOut as RelayerError).retryable).toBe(true);
    expect((timedOut as RelayerError).shortMessage).toMatch(/no signed VAA .* within 1000 ms/);

    api.behaviour.mode = 'honest';
    await transports.wormhole.deliver(message);
    expect(await transports.wormhole.status(message)).toBe('delivered');
  });
});

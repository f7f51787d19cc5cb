import { isAddressEqual, parseEventLogs, toHex, type Hex } from 'viem';
import { RelayerError } from '../../relayer/errors.js';
import { messageProbeAbi } from '../contracts/out/MessageProbe.js';
import type { OutboundMessage, Transport } from '../messaging/transport.js';
import type { ManifestChain } from './manifest.js';
import type { DevnetTransports } from './transports.js';

/** MessageProbe's TRANSPORT_LAYERZERO and TRANSPORT_WORMHOLE. */
const PROBE_TRANSPORT = { layerzero: 1, wormhole: 2 } as const;

/** Sends `payload` from the probe on `from` to the probe on `to` over `transport`. */
export async function sendProbe(params: {
  transports: DevnetTransports;
  transport: Transport;
  from: ManifestChain;
  to: ManifestChain;
  payload: Hex;
}): Promise<OutboundMessage> {
  const { transports, transport, from, to, payload } = params;
  const signer = transports.relayers.get(from.key);
  if (!signer) throw new RelayerError(`no relayer signer for chain '${from.key}'`);
  const probe = from.contracts.messageProbe;
  return transport.send({
    source: from.key,
    destination: to.key,
    sender: probe,
    receiver: to.contracts.messageProbe,
    payload,
    submit: (fee) =>
      transport.kind === 'layerzero'
        ? signer.write({ address: probe, abi: messageProbeAbi, functionName: 'sendLayerZero', args: [to.lzEid, payload, transport.sendOptions()], value: fee, label: 'MessageProbe' })
        : signer.write({ address: probe, abi: messageProbeAbi, functionName: 'sendWormhole', args: [payload], value: fee, label: 'MessageProbe' }),
  });
}

/** Every `ProbeReceived` on the destination probe of this message: transport, sender, payload. */
export async function probeReceipts(params: { transports: DevnetTransports; message: OutboundMessage; to: ManifestChain }) {
  const { transports, message, to } = params;
  const client = transports.relayers.get(to.key)?.public;
  if (!client) throw new RelayerError(`no client for chain '${to.key}'`);
  const logs = await client.getLogs({ address: to.contracts.messageProbe, fromBlock: 0n, toBlock: 'latest' });
  return parseEventLogs({ abi: messageProbeAbi, eventName: 'ProbeReceived', logs }).filter(
    (event) =>
      event.args.transport === PROBE_TRANSPORT[message.id.transport] &&
      event.args.payload === message.payload &&
      isAddressEqual(`0x${event.args.sender.slice(-40)}`, message.sender),
  );
}

export interface ProbeResult {
  readonly from: string;
  readonly to: string;
  readonly transport: Transport['kind'];
  readonly messageId: OutboundMessage['id'];
  /** From the send call to the delivery receipt, in milliseconds. */
  readonly sendToDeliveredMs: number;
}

/**
 * Proves the devnet: one message from every chain to every other chain over each transport,
 * delivered, and found exactly once at the receiving probe with its payload. Throws on the
 * first message that does not arrive exactly once.
 */
export async function proveTransports(params: { transports: DevnetTransports; chains: readonly ManifestChain[]; onResult?: (result: ProbeResult) => void }): Promise<ProbeResult[]> {
  const { transports, chains } = params;
  const results: ProbeResult[] = [];
  for (const transport of [transports.layerzero, transports.wormhole]) {
    for (const from of chains) {
      for (const to of chains) {
        if (from.key === to.key) continue;
        const payload = toHex(`probe ${transport.kind} ${from.key}->${to.key} ${Date.now()}`);
        const started = performance.now();
        const message = await sendProbe({ transports, transport, from, to, payload });
        await transport.deliver(message);
        const sendToDeliveredMs = performance.now() - started;
        const received = await probeReceipts({ transports, message, to });
        if (received.length !== 1) {
          throw new RelayerError(`${transport.kind} message ${from.key} -> ${to.key} arrived ${received.length} times, expected once`);
        }
        const result = { from: from.key, to: to.key, transport: transport.kind, messageId: message.id, sendToDeliveredMs };
        results.push(result);
        params.onResult?.(result);
      }
    }
  }
  return results;
}

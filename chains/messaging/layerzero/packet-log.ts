import { getAbiItem, type Address, type Chain, type PublicClient, type Transport } from 'viem';
import { RelayerError } from '../../../relayer/errors.js';
import { endpointAbi } from './abi.js';
import { decodePacketsSent, pathKey, type LzPacket, type LzPath } from './packet.js';

/** Blocks per getLogs call: small enough for any RPC's range limit. */
const LOG_RANGE = 5_000n;
const packetSentEvent = getAbiItem({ abi: endpointAbi, name: 'PacketSent' });

/**
 * Every packet one source endpoint has sent, by path and nonce, read from its `PacketSent`
 * logs and extended on demand. The executor needs the earlier packets of a path: a packet
 * can only be delivered after every lower nonce on its path has been verified.
 */
export class PacketLog {
  private scannedTo = -1n;
  private readonly byPath = new Map<string, Map<bigint, LzPacket>>();

  constructor(
    private readonly client: PublicClient<Transport, Chain>,
    private readonly endpoint: Address,
  ) {}

  async packet(path: LzPath, nonce: bigint): Promise<LzPacket> {
    let found = this.byPath.get(pathKey(path))?.get(nonce);
    if (!found) {
      await this.refresh();
      found = this.byPath.get(pathKey(path))?.get(nonce);
    }
    if (!found) throw new RelayerError(`no PacketSent with nonce ${nonce} on path ${pathKey(path)} at endpoint ${this.endpoint}`, {
        // An RPC behind the head may not have the log yet.
        retryable: true,
      });
    return found;
  }

  private async refresh(): Promise<void> {
    // viem caches the block number for a polling interval: ask for the real head.
    const head = await this.client.getBlockNumber({ cacheTime: 0 });
    for (let from = this.scannedTo + 1n; from <= head; from += LOG_RANGE) {
      const to = from + LOG_RANGE - 1n < head ? from + LOG_RANGE - 1n : head;
      const logs = await this.client.getLogs({ address: this.endpoint, event: packetSentEvent, fromBlock: from, toBlock: to });
      for (const packet of decodePacketsSent({ endpoint: this.endpoint, logs })) {
        const key = pathKey(packet);
        const nonces = this.byPath.get(key) ?? new Map<bigint, LzPacket>();
        nonces.set(packet.nonce, packet);
        this.byPath.set(key, nonces);
      }
      this.scannedTo = to;
    }
  }
}

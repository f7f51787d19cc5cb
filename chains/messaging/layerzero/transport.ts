import { Options } from '@layerzerolabs/lz-v2-utilities';
import { isAddressEqual, pad, type Address, type Hex, type LocalAccount, type TransactionReceipt } from 'viem';
import { RelayerError } from '../../../relayer/errors.js';
import type { Signer } from '../../signer.js';
import { ChainRegistry } from '../chain-registry.js';
import { quoteSubmitIdentify, type Delivery, type DeliveryStatus, type MessagingChain, type OutboundMessage, type SendRequest, type Transport } from '../transport.js';
import { endpointAbi, endpointViewAbi } from './abi.js';
import { verifyAsDvn } from './dvn.js';
import { executeAsExecutor } from './executor.js';
import { PacketLog } from './packet-log.js';
import { decodePacketsSent, pathKey, type LzPacket, type LzPath } from './packet.js';

/** The LayerZero V2 contracts of one chain that the node uses. */
export interface LayerZeroContracts {
  readonly endpoint: Address;
  readonly endpointView: Address;
  readonly receiveUln: Address;
  readonly executor: Address;
  readonly dvn: Address;
  readonly dvnVid: number;
}

export interface LayerZeroChain extends MessagingChain {
  readonly layerZero: LayerZeroContracts;
}

export interface LayerZeroTransportOptions {
  readonly chains: readonly LayerZeroChain[];
  /** The node's signer on each chain, by chain key: executor and DVN admin there. */
  readonly relayers: ReadonlyMap<string, Signer>;
  /** The key the DVN contracts accept signatures from. */
  readonly dvnSigner: LocalAccount;
  /** Gas paid for the receiver's lzReceive. */
  readonly receiveGas: bigint;
  /** Block confirmations the ULN configs ask for. */
  readonly confirmations: bigint;
}

/** EndpointV2View.executable: where a packet is on its destination. */
const EXECUTABLE = { notExecutable: 0, verifiedNotExecutable: 1, executable: 2, executed: 3 } as const;

/**
 * LayerZero V2 over the production message library (SendUln302 / ReceiveUln302). On the
 * devnet the node is both the DVN and the executor: `deliver` verifies and executes every
 * packet of the message's path up to it, in nonce order, since a packet left unverified would
 * block all later ones.
 */
export class LayerZeroTransport implements Transport {
  readonly kind = 'layerzero' as const;
  private readonly registry: ChainRegistry<LayerZeroChain>;
  private readonly packetLogs = new Map<string, PacketLog>();
  private readonly pathLocks = new Map<string, Promise<unknown>>();

  constructor(private readonly options: LayerZeroTransportOptions) {
    this.registry = new ChainRegistry('LayerZero', options.chains, options.relayers);
  }

  /** Executor options paying for the receiver's gas; mandatory on the ULN path. */
  sendOptions(receiveGas: bigint = this.options.receiveGas): Hex {
    return Options.newOptions().addExecutorLzReceiveOption(receiveGas, 0).toHex() as Hex;
  }

  async quote(request: SendRequest): Promise<bigint> {
    const source = this.registry.chain(request.source);
    const destination = this.registry.chain(request.destination);
    const fee = await this.registry.relayer(source.key).public.readContract({
      address: source.layerZero.endpoint,
      abi: endpointAbi,
      functionName: 'quote',
      args: [
        { dstEid: destination.lzEid, receiver: pad(request.receiver, { size: 32 }), message: request.payload, options: this.sendOptions(request.receiveGas), payInLzToken: false },
        request.sender,
      ],
    });
    return fee.nativeFee;
  }

  send(request: SendRequest & { submit: (fee: bigint) => Promise<TransactionReceipt> }): Promise<OutboundMessage> {
    return quoteSubmitIdentify(this, request);
  }

  identify(request: Omit<SendRequest, 'payload'> & { receipt: TransactionReceipt }): OutboundMessage[] {
    const source = this.registry.chain(request.source);
    const destination = this.registry.chain(request.destination);
    return decodePacketsSent({ endpoint: source.layerZero.endpoint, logs: request.receipt.logs })
      .filter((p) => p.dstEid === destination.lzEid && isAddressEqual(p.sender, request.sender) && isAddressEqual(p.receiver, request.receiver))
      .map((p) => ({
        id: { transport: 'layerzero', guid: p.guid, srcEid: p.srcEid, dstEid: p.dstEid, nonce: p.nonce },
        source: source.key,
        destination: destination.key,
        sender: p.sender,
        receiver: p.receiver,
        payload: p.message,
        txHash: p.txHash,
        blockNumber: p.blockNumber,
      }));
  }

  async status(message: OutboundMessage): Promise<DeliveryStatus> {
    const state = await this.executable(message, this.lzId(message).nonce);
    if (state === EXECUTABLE.executed) return 'delivered';
    return state === EXECUTABLE.notExecutable ? 'sent' : 'verified';
  }

  deliver(message: OutboundMessage): Promise<Delivery> {
    const path = this.path(message);
    // One delivery at a time per path: nonce order is the path's law.
    const key = pathKey(path);
    const previous = this.pathLocks.get(key) ?? Promise.resolve();
    const next = previous.then(
      () => this.deliverInOrder(message, path),
      () => this.deliverInOrder(message, path),
    );
    this.pathLocks.set(key, next.catch(() => undefined));
    return next;
  }

  private async deliverInOrder(message: OutboundMessage, path: LzPath): Promise<Delivery> {
    const target = this.lzId(message).nonce;
    if ((await this.executable(message, target)) === EXECUTABLE.executed) return { status: 'delivered', txHash: undefined };
    const source = this.registry.chain(message.source);
    const destination = this.registry.chain(message.destination);
    const admin = this.registry.relayer(destination.key);
    const executed = await admin.public.readContract({
      address: destination.layerZero.endpoint,
      abi: endpointAbi,
      functionName: 'lazyInboundNonce',
      args: [path.receiver, path.srcEid, pad(path.sender, { size: 32 })],
    });
    const log = this.packetLog(source);
    const pending: LzPacket[] = [];
    for (let nonce = executed + 1n; nonce <= target; nonce += 1n) pending.push(await log.packet(path, nonce));
    const last = pending.at(-1);
    if (!last || last.guid !== this.lzId(message).guid) {
      throw new RelayerError(`LayerZero message ${this.lzId(message).guid} does not match packet ${target} on its path`);
    }
    for (const packet of pending) {
      if ((await this.executable(message, packet.nonce)) === EXECUTABLE.notExecutable) {
        try {
          await verifyAsDvn({ admin, dvnSigner: this.options.dvnSigner, deployment: destination.layerZero, packet, confirmations: this.options.confirmations });
        } catch (error) {
          // Verified by another deliverer between the read and our commit: go on to execute.
          if ((await this.executable(message, packet.nonce)) === EXECUTABLE.notExecutable) throw error;
        }
      }
    }
    let txHash: Delivery['txHash'];
    for (const packet of pending) {
      const state = await this.executable(message, packet.nonce);
      if (state === EXECUTABLE.executed) continue;
      if (state !== EXECUTABLE.executable) throw new RelayerError(`packet ${packet.guid} is verified but not executable on chain ${destination.chainId}`, {
          // Its predecessors are still being executed; another attempt can find it executable.
          retryable: true,
        });
      try {
        txHash = await executeAsExecutor({ admin, executor: destination.layerZero.executor, endpoint: destination.layerZero.endpoint, packet });
      } catch (error) {
        // Executed by someone else between the read and our send: the packet is delivered.
        if ((await this.executable(message, packet.nonce)) !== EXECUTABLE.executed) throw error;
      }
    }
    return { status: 'delivered', txHash };
  }

  private executable(message: OutboundMessage, nonce: bigint): Promise<number> {
    const destination = this.registry.chain(message.destination);
    return this.registry.relayer(destination.key).public.readContract({
      address: destination.layerZero.endpointView,
      abi: endpointViewAbi,
      functionName: 'executable',
      args: [{ srcEid: this.lzId(message).srcEid, sender: pad(message.sender, { size: 32 }), nonce }, message.receiver],
    });
  }

  private path(message: OutboundMessage): LzPath {
    const id = this.lzId(message);
    return { srcEid: id.srcEid, sender: message.sender, dstEid: id.dstEid, receiver: message.receiver };
  }

  private lzId(message: OutboundMessage) {
    if (message.id.transport !== 'layerzero') throw new RelayerError(`not a LayerZero message: ${message.id.transport}`);
    return message.id;
  }

  private packetLog(chain: LayerZeroChain): PacketLog {
    let log = this.packetLogs.get(chain.key);
    if (!log) {
      log = new PacketLog(this.registry.relayer(chain.key).public, chain.layerZero.endpoint);
      this.packetLogs.set(chain.key, log);
    }
    return log;
  }


}

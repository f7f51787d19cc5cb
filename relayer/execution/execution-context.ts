import type { Address, Hash } from 'viem';
import type { LedgerDatabase } from '../../db/index.js';
import type { Transport, TransportKind } from '../../chains/messaging/transport.js';
import type { Signer } from '../../chains/signer.js';
import { RelayerError } from '../errors.js';

/** A chain as leg execution sees it: its vault and engine, and the node's signer there. */
export interface ExecutionChain {
  readonly key: string;
  readonly chainId: number;
  readonly vault: Address;
  readonly marginEngine: Address;
  /** The relayer's signer (the vault's relayer role); one nonce queue per chain. */
  readonly signer: Signer;
}

export interface ExecutionContext {
  readonly ledger: LedgerDatabase;
  readonly chains: ReadonlyMap<number, ExecutionChain>;
  readonly transports: Readonly<Record<TransportKind, Transport>>;
  /** Who writes the ledger rows (node id), for the audit trail. */
  readonly actor: string;
  /** Gas each destination vault needs to receive a leg. */
  readonly receiveGas?: bigint;
  /** Told when a leg is credited, with its seconds from the source transaction (for metrics). */
  readonly onCredited?: (params: { transport: string; seconds: number }) => void;
  /** Told when a leg's source transaction is mined, before the ledger records it (for metrics and crash tests). */
  readonly onSourceMined?: (params: { legId: Hash; txHash: Hash }) => void | Promise<void>;
}

export function chainOf(context: ExecutionContext, chainId: number): ExecutionChain {
  const chain = context.chains.get(chainId);
  if (!chain) throw new RelayerError(`leg names chain ${chainId}, which this node does not serve`);
  return chain;
}

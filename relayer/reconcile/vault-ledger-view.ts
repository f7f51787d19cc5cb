import { parseEventLogs, type Hash, type Hex } from 'viem';
import { collateralTokenAbi } from '../../chains/contracts/out/CollateralToken.js';
import { vaultAbi } from '../../chains/contracts/out/Vault.js';
import { chains as chainRows, type LedgerDatabase } from '../../db/index.js';
import type { ExecutionChain } from '../execution/execution-context.js';
import { vaultLogsThrough } from './vault-log-store.js';

export interface SentLeg {
  readonly chainId: number;
  readonly amount: bigint;
  readonly dstChainId: bigint;
  readonly deadline: bigint;
  readonly blockNumber: bigint;
}

export interface ReceivedLeg {
  readonly chainId: number;
  readonly amount: bigint;
  readonly txHash: Hash;
}

/** A LayerZero message a vault consumed without effect (`LegRejected`): refused for good. */
export interface RejectedMessage {
  readonly chainId: number;
  readonly srcChainId: number;
  /** The LayerZero GUID. */
  readonly messageRef: Hash;
  /** The vault's custom error, ABI-encoded. */
  readonly reason: Hex;
  readonly txHash: Hash;
}

/** What the vaults say happened, across every chain: the chain side of reconciliation. */
export interface VaultView {
  readonly sent: Map<Hash, SentLeg>;
  readonly received: Map<Hash, ReceivedLeg[]>;
  readonly refunded: Set<Hash>;
  readonly canceled: Set<Hash>;
  readonly rejected: RejectedMessage[];
  /** Collateral issued into the vaults (the only way supply enters the system). */
  readonly issued: bigint;
  /** The collateral token's total supply summed over the chains. */
  readonly supply: bigint;
}

/**
 * Reads every vault's leg events and every chain's token supply, each chain at one block: the
 * heads are taken first, together, and the logs and the supply read at them. Read to `latest`
 * instead, a leg sent between a chain's log read and its supply read would be burned but not
 * seen, and supply would no longer add up.
 */
export async function readVaults(params: {
  chains: readonly ExecutionChain[];
  tokens: ReadonlyMap<number, `0x${string}`>;
  fromBlock?: bigint;
  /** Read each vault from reconciliation's checkpoint on, its older logs from the ledger (vault-log-store.ts). */
  ledger?: LedgerDatabase;
}): Promise<VaultView> {
  const view = { sent: new Map<Hash, SentLeg>(), received: new Map<Hash, ReceivedLeg[]>(), refunded: new Set<Hash>(), canceled: new Set<Hash>(), rejected: [] as RejectedMessage[] };
  let issued = 0n;
  let supply = 0n;
  const heads = await Promise.all(params.chains.map((chain) => chain.signer.public.getBlockNumber({ cacheTime: 0 })));
  const { ledger } = params;
  const confirmations = ledger === undefined ? new Map<number, bigint>() : await chainConfirmations(ledger);
  for (const [i, chain] of params.chains.entries()) {
    const client = chain.signer.public;
    const head = heads[i] ?? 0n;
    const logs =
      ledger === undefined
        ? await client.getLogs({ address: chain.vault, fromBlock: params.fromBlock ?? 0n, toBlock: head })
        : await vaultLogsThrough({ ledger, chain, head, confirmations: confirmations.get(chain.chainId) ?? 1n });
    for (const event of parseEventLogs({ abi: vaultAbi, logs })) {
      switch (event.eventName) {
        case 'LegSent':
          view.sent.set(event.args.legId, { chainId: chain.chainId, amount: event.args.amount, dstChainId: event.args.dstChainId, deadline: event.args.deadline, blockNumber: event.blockNumber });
          break;
        case 'LegReceived':
          view.received.set(event.args.legId, [...(view.received.get(event.args.legId) ?? []), { chainId: chain.chainId, amount: event.args.amount, txHash: event.transactionHash }]);
          break;
        case 'LegRefunded':
          view.refunded.add(event.args.legId);
          break;
        case 'LegCanceled':
          view.canceled.add(event.args.legId);
          break;
        case 'LegRejected':
          view.rejected.push({ chainId: chain.chainId, srcChainId: Number(event.args.srcChainId), messageRef: event.args.messageRef, reason: event.args.reason, txHash: event.transactionHash });
          break;
        case 'Issued':
          issued += event.args.amount;
          break;
        default:
          break;
      }
    }
    const token = params.tokens.get(chain.chainId);
    if (token) supply += await client.readContract({ address: token, abi: collateralTokenAbi, functionName: 'totalSupply', blockNumber: head });
  }
  return { ...view, issued, supply };
}

/** What left a chain and has neither arrived nor come back: burned here, not yet minted anywhere. */
export function inFlight(view: VaultView): bigint {
  let total = 0n;
  for (const [legId, sent] of view.sent) if (!view.received.has(legId) && !view.refunded.has(legId)) total += sent.amount;
  return total;
}

/** Each chain's finality depth as the ledger has it (its confirmations). */
async function chainConfirmations(ledger: LedgerDatabase): Promise<Map<number, bigint>> {
  const rows = await ledger.select({ chainId: chainRows.chainId, confirmations: chainRows.confirmations }).from(chainRows);
  return new Map(rows.map((row) => [row.chainId, BigInt(row.confirmations)]));
}

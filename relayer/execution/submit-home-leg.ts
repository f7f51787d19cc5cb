import { listLegEvents, type Leg } from '../../db/index.js';
import { advanceLeg } from './advance-leg.js';
import type { ExecutionChain, ExecutionContext } from './execution-context.js';

/**
 * A home leg (`local`, `auction`: one transaction on the account's own chain) recorded `submitted`
 * at the chain's head before its transaction. Returns the block a retry looks for that
 * transaction's event from, or undefined when the leg is already past `submitted`.
 */
export async function submitHomeLeg(context: ExecutionContext, chain: ExecutionChain, leg: Leg): Promise<bigint | undefined> {
  if (leg.status === 'planned') {
    const head = await chain.signer.public.getBlockNumber({ cacheTime: 0 });
    await advanceLeg(context, { legId: leg.id, from: 'planned', to: 'submitted', evidence: { chainId: chain.chainId, blockNumber: head } });
    return head;
  }
  if (leg.status !== 'submitted') return undefined;
  return (await listLegEvents(context.ledger, leg.id)).find((event) => event.toStatus === 'submitted')?.blockNumber ?? 0n;
}

import { IN_FLIGHT_STATUSES, type Leg } from '../../db/index.js';
import { rejectionReason } from '../../chains/protocol/rejection.js';
import { isRefusedDelivery } from '../execution/delivery-refusal.js';
import type { Finding } from './reconcile.js';
import type { VaultView } from './vault-ledger-view.js';

/**
 * Deliveries a destination vault refused, for an operator to look at (`refused_delivery`): a
 * forged or invalid message is someone trying the vaults, and a leg refused for good is money
 * burned that must come back. Two sources, because the transports refuse differently:
 * - a Wormhole refusal reverts and leaves nothing on chain, so a leg still in flight whose last
 *   delivery attempt was refused is known from the ledger's attempt record only;
 * - a vault consumes a LayerZero message it refuses with `LegRejected`: each is flagged, with
 *   its leg when the ledger sent that message, unless the leg has been refunded since (the
 *   refusal is then settled). One the ledger never sent is flagged without a leg, since
 *   findings reference only legs the ledger has.
 */
export function refusedDeliveries(ledgerLegs: readonly Leg[], view: VaultView): Finding[] {
  const findings: Finding[] = [];
  for (const leg of ledgerLegs) {
    if (!IN_FLIGHT_STATUSES.includes(leg.status) || view.received.has(leg.id) || !isRefusedDelivery(leg.lastError)) continue;
    findings.push({
      kind: 'refused_delivery',
      severity: 'warning',
      legId: leg.id,
      chainId: leg.destinationChainId,
      ...(leg.messageId ? { messageId: leg.messageId } : {}),
      detail: { status: leg.status, attempts: leg.attempts, lastError: leg.lastError, note: 'the destination refused the last delivery; the genuine message is still deliverable' },
    });
  }
  const byMessage = new Map(ledgerLegs.flatMap((leg) => (leg.messageId ? [[leg.messageId, leg] as const] : [])));
  for (const rejected of view.rejected) {
    const leg = byMessage.get(rejected.messageRef.toLowerCase());
    if (leg?.status === 'refunded') continue;
    findings.push({
      kind: 'refused_delivery',
      severity: 'warning',
      ...(leg ? { legId: leg.id } : {}),
      chainId: rejected.chainId,
      messageId: rejected.messageRef.toLowerCase(),
      detail: {
        reason: rejectionReason(rejected.reason),
        srcChainId: rejected.srcChainId,
        txHash: rejected.txHash,
        note: leg ? 'the destination consumed the leg without executing it' : 'a vault refused a message the ledger never sent',
      },
    });
  }
  return findings;
}

/**
 * What a destination vault's refusal of a delivery means for the leg, decided by the vault's
 * custom error (Vault.sol). Either the leg itself can never execute there (expired, canceled,
 * a payload the vault cannot read): it fails, and reconciliation refunds
 * what its source burned. Or only the delivered message was bad (a VAA not signed by the
 * guardian set, from an unknown emitter, for another chain): not the leg's fault, since the
 * genuine message is still deliverable, so the leg stays where it is and the job retries.
 */
const FINAL_FOR_LEG: ReadonlySet<string> = new Set(['LegExpired', 'LegAlreadyProcessed', 'MalformedPayload', 'UnsupportedPayloadVersion', 'UnsupportedLegKind']);

/** Vault.LegStatus.Executed: the leg was credited there. */
const EXECUTED = 3;

/**
 * Whether the refusal fails the leg. `LegAlreadyProcessed` naming this leg as executed is not
 * a refusal but a credit the caller has not read yet (a lagging RPC): it retries and reads it.
 */
export function refusalFailsLeg(legId: string, refusal: { readonly name: string; readonly args: readonly unknown[] } | undefined): boolean {
  if (refusal === undefined || !FINAL_FOR_LEG.has(refusal.name)) return false;
  if (refusal.name === 'LegAlreadyProcessed') {
    const [refusedLeg, status] = refusal.args;
    return String(refusedLeg).toLowerCase() === legId.toLowerCase() && Number(status) !== EXECUTED;
  }
  return true;
}

const REFUSED = 'destination refused: ';

/** A refusal as the leg's `last_error` records it (reconciliation reads it back with `isRefusedDelivery`). */
export function refusedDeliveryError(reason: string): string {
  return `${REFUSED}${reason}`;
}

export function isRefusedDelivery(lastError: string | null): boolean {
  return lastError?.startsWith(REFUSED) ?? false;
}

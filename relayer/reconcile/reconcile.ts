import { inArray } from 'drizzle-orm';
import type { Address, Hash } from 'viem';
import {
  finishReconciliationRun,
  getLeg,
  legs,
  markLegsReconciled,
  openFindingsBefore,
  recordFinding,
  recordLegAttempt,
  refundRefusal,
  resolveFindings,
  startReconciliationRun,
  type FindingKind,
  type FindingSeverity,
  type Leg,
} from '../../db/index.js';
import { shortReason } from '../../chains/signer.js';
import { deliverLegStep } from '../execution/deliver-leg.js';
import type { ExecutionChain, ExecutionContext } from '../execution/execution-context.js';
import { refundExpiredLeg } from './refund-leg.js';
import { refusedDeliveries } from './refused-deliveries.js';
import { chainHeads, confirmLegsWithoutTransfer } from './unsent-legs.js';
import { inFlight, readVaults, type SentLeg, type VaultView } from './vault-ledger-view.js';

export interface Finding {
  readonly kind: FindingKind;
  readonly severity: FindingSeverity;
  readonly legId?: Hash;
  readonly chainId?: number;
  readonly messageId?: string;
  readonly expected?: bigint;
  readonly actual?: bigint;
  readonly detail?: Record<string, unknown>;
}

export interface ReconcileResult {
  readonly runId: bigint;
  readonly findings: readonly Finding[];
  /**
   * Legs found consistent with the chains: debited = sent = credited, once; or refunded once;
   * or failed with nothing sent (see `confirmLegsWithoutTransfer`); or liquidated as recorded.
   */
  readonly reconciled: number;
  /** Legs refunded by this run: expired in flight, or failed after their source burned the amount. */
  readonly refunded: readonly Hash[];
  readonly supply: { readonly onChains: bigint; readonly inFlight: bigint; readonly issued: bigint };
}

const IN_FLIGHT = ['sent', 'verified', 'delivered'] as const;

/** The kinds of finding a run looks for (on the chains it serves): only these can it disprove. */
const CHECKED: ReadonlySet<FindingKind> = new Set(['duplicate_delivery', 'amount_mismatch', 'unknown_message', 'stuck_leg', 'supply_mismatch', 'ledger_chain_mismatch', 'refused_delivery']);

/**
 * Checks the ledger against the vaults (DESIGN.md section 1, step 4): per leg, the source's
 * debit equals the message's amount equals the destination's credit, and nothing is credited
 * twice; a leg in flight past its SLA, or failed after its source burned the amount, is
 * flagged; one in flight is delivered again while its deadline allows (`redriveStuck`), and
 * any is refunded when its deadline has passed (the destination can then never execute
 * it); a leg on chain that the ledger does not know, and a delivery a destination refused, are
 * flagged; and the supply over all chains plus what is in flight equals what was issued.
 * Every leg the chains bear out at rest is recorded as reconciled by the run (what the report
 * of unreconciled legs reads): credited or refunded as the ledger says, failed before its
 * source burned anything (no `LegSent` up to the finality depth), a local leg's liquidation.
 * Every finding is a row of the run; an earlier run's open finding that this run does not find
 * again (a race it lost, a leg since delivered or refunded) is resolved by this run.
 */
export async function reconcile(params: {
  context: ExecutionContext;
  tokens: ReadonlyMap<number, Address>;
  slaSeconds: number;
  /** Refund the legs owed a refund (the default); false only flags them. */
  refundExpired?: boolean;
  /** Deliver a leg stuck past its SLA again while its deadline allows (the default); false only flags it. */
  redriveStuck?: boolean;
}): Promise<ReconcileResult> {
  const { context } = params;
  const runId = await startReconciliationRun(context.ledger, { node: context.actor, scope: { slaSeconds: params.slaSeconds } });
  const findings: Finding[] = [];
  // The ledger before the chains: a leg the ledger has as sent (or further) is on chain by the
  // time the vaults are read, so a leg sent meanwhile never reads as sent-but-not-on-chain.
  const ledgerLegs = await context.ledger.select().from(legs).where(inArray(legs.status, ['sent', 'verified', 'delivered', 'credited', 'failed', 'refunded']));
  const heads = await chainHeads(context);
  const view = await readVaults({ chains: [...context.chains.values()], tokens: params.tokens, ledger: context.ledger });
  const known = await knownLegs(context, ledgerLegs, view);
  const reconciled: Hash[] = [];
  const refunded: Hash[] = [];

  for (const leg of ledgerLegs) {
    // Neither leaves its chain: no vault holds them (unsent-legs.ts confirms them).
    if (leg.kind === 'local' || leg.kind === 'auction') continue;
    const verdict = checkLeg(leg, view);
    findings.push(...verdict.findings);
    if (verdict.consistent && (leg.status === 'credited' || (leg.status === 'refunded' && view.refunded.has(leg.id)))) reconciled.push(leg.id);
    if (view.refunded.has(leg.id) && leg.status !== 'refunded') {
      // A refund the chain made and the ledger missed (a crash after it): never refund again.
      findings.push({ kind: 'ledger_chain_mismatch', severity: 'critical', legId: leg.id, chainId: leg.sourceChainId, detail: { status: leg.status, note: 'refunded on chain; the ledger has not recorded the refund' } });
      continue;
    }
    const owed = (IN_FLIGHT as readonly string[]).includes(leg.status) ? await stuckVerdict({ context, leg, view, slaSeconds: params.slaSeconds }) : await unrefundedVerdict({ context, leg, view });
    if (owed) {
      const redriven = !owed.expired && params.redriveStuck !== false && (IN_FLIGHT as readonly string[]).includes(leg.status);
      findings.push(redriven ? { ...owed.finding, detail: { ...owed.finding.detail, redrive: await redriveDelivery(context, leg) } } : owed.finding);
      if (owed.expired && params.refundExpired !== false) {
        try {
          await refundExpiredLeg({ context, leg });
          refunded.push(leg.id);
        } catch (error) {
          // One refund that cannot go through now must not cost the run its other findings.
          findings.push({ kind: 'stuck_leg', severity: 'critical', legId: leg.id, chainId: leg.destinationChainId, detail: { status: leg.status, action: 'refund failed; retried next run', error: shortReason(error) } });
        }
      }
    }
  }
  reconciled.push(...(await confirmLegsWithoutTransfer({ context, ledgerLegs, view, heads })));
  findings.push(...refusedDeliveries(ledgerLegs, view));
  for (const [legId, sent] of view.sent) {
    // The leg id goes in the detail: findings reference only legs the ledger has.
    if (!known.has(legId)) findings.push({ kind: 'unknown_message', severity: 'warning', chainId: sent.chainId, actual: sent.amount, detail: { legId, note: 'a vault sent a leg the ledger never planned' } });
  }
  for (const [legId, credits] of view.received) {
    // Executed on a destination with no burn on any source: a forged message the vault accepted.
    if (view.sent.has(legId)) continue;
    const minted = credits.reduce((sum, credit) => sum + credit.amount, 0n);
    findings.push({ kind: 'unknown_message', severity: 'critical', chainId: credits[0]?.chainId, actual: minted, detail: { legId, txHashes: credits.map((c) => c.txHash), note: 'a vault credited a leg that no vault sent' } });
  }

  const after = refunded.length > 0 ? await readVaults({ chains: [...context.chains.values()], tokens: params.tokens, ledger: context.ledger }) : view;
  const supply = { onChains: after.supply, inFlight: inFlight(after), issued: after.issued };
  if (supply.onChains + supply.inFlight !== supply.issued) {
    findings.push({ kind: 'supply_mismatch', severity: 'critical', expected: supply.issued, actual: supply.onChains + supply.inFlight, detail: { onChains: String(supply.onChains), inFlight: String(supply.inFlight) } });
  }

  for (const finding of findings) await recordFinding(context.ledger, { runId, ...finding });
  // What an earlier run found and this one, looking again, did not: disproved, so resolved.
  const found = new Set(findings.map(subjectOf));
  const disproved = (await openFindingsBefore(context.ledger, { runId })).filter(
    (earlier) => CHECKED.has(earlier.kind) && (earlier.chainId === null || context.chains.has(earlier.chainId)) && !found.has(subjectOf(earlier)),
  );
  await resolveFindings(context.ledger, { findingIds: disproved.map((earlier) => earlier.id), resolution: `not found again by reconciliation run ${runId}` });
  await markLegsReconciled(context.ledger, { runId, legIds: reconciled });
  const clean = findings.every((finding) => finding.severity === 'info');
  await finishReconciliationRun(context.ledger, {
    runId,
    status: clean ? 'passed' : 'failed',
    summary: { findings: findings.length, reconciled: reconciled.length, refunded: refunded.length, supply: Object.fromEntries(Object.entries(supply).map(([k, v]) => [k, String(v)])) },
  });
  return { runId, findings, reconciled: reconciled.length, refunded, supply };
}

/**
 * The legs the ledger knows among those the vaults sent: every leg it checks, and any other it
 * has in whatever status. One `planned` or `submitted` when the ledger was read may be on chain
 * by the time the vaults are: the node records `submitted` before it sends and `sent` after the
 * transaction is mined, so a run in between sees a leg the ledger planned, not an unknown one.
 */
async function knownLegs(context: ExecutionContext, checked: readonly Leg[], view: VaultView): Promise<Set<Hash>> {
  const known = new Set(checked.map((leg) => leg.id));
  const unmatched = [...view.sent.keys()].filter((legId) => !known.has(legId));
  if (unmatched.length > 0) for (const { id } of await context.ledger.select({ id: legs.id }).from(legs).where(inArray(legs.id, unmatched))) known.add(id);
  return known;
}

/**
 * What a finding is about: its kind and the leg, chain, message and condition it names (not the
 * run's measurements, such as a stuck leg's age). A later run that has no finding about the
 * same thing disproves the earlier one.
 */
function subjectOf(finding: { kind: string; legId?: string | null; chainId?: number | null; messageId?: string | null; detail?: Record<string, unknown> | null }): string {
  const { detail } = finding;
  return JSON.stringify([finding.kind, finding.legId ?? null, finding.chainId ?? null, finding.messageId ?? null, detail?.legId ?? null, detail?.side ?? null, detail?.note ?? null]);
}

/** Debit, message and credit of one leg against the chains. */
function checkLeg(leg: Leg, view: VaultView): { consistent: boolean; findings: Finding[] } {
  const findings: Finding[] = [];
  const sent = view.sent.get(leg.id);
  const received = view.received.get(leg.id) ?? [];
  if (!sent) {
    if (leg.status !== 'failed') findings.push({ kind: 'ledger_chain_mismatch', severity: 'critical', legId: leg.id, chainId: leg.sourceChainId, detail: { status: leg.status, note: 'the ledger says sent; the source vault has no such leg' } });
    return { consistent: false, findings };
  }
  if (leg.status === 'failed' && refundRefusal(leg.failedFrom) !== undefined) {
    findings.push({ kind: 'ledger_chain_mismatch', severity: 'critical', legId: leg.id, chainId: leg.sourceChainId, detail: { failedFrom: leg.failedFrom, note: 'the ledger failed the leg before it was sent; the source vault sent it' } });
  }
  if (sent.amount !== leg.amount) findings.push({ kind: 'amount_mismatch', severity: 'critical', legId: leg.id, chainId: leg.sourceChainId, expected: leg.amount, actual: sent.amount, detail: { side: 'source debit' } });
  if (received.length > 1) findings.push({ kind: 'duplicate_delivery', severity: 'critical', legId: leg.id, chainId: leg.destinationChainId, actual: BigInt(received.length) });
  const [credit] = received;
  if (leg.status === 'credited' && !credit) findings.push({ kind: 'ledger_chain_mismatch', severity: 'critical', legId: leg.id, chainId: leg.destinationChainId, detail: { note: 'the ledger says credited; the destination vault never received it' } });
  if ((leg.status === 'failed' || leg.status === 'refunded') && credit) findings.push({ kind: 'ledger_chain_mismatch', severity: 'critical', legId: leg.id, chainId: leg.destinationChainId, detail: { status: leg.status, note: 'the ledger gave the leg up; the destination vault received it' } });
  if (credit && credit.amount !== sent.amount) findings.push({ kind: 'amount_mismatch', severity: 'critical', legId: leg.id, chainId: leg.destinationChainId, expected: sent.amount, actual: credit.amount, detail: { side: 'destination credit' } });
  return { consistent: findings.length === 0, findings };
}

/** A leg in flight longer than its SLA: flagged; `expired` when the destination can no longer take it. */
async function stuckVerdict(params: { context: ExecutionContext; leg: Leg; view: VaultView; slaSeconds: number }): Promise<{ finding: Finding; expired: boolean } | undefined> {
  const { context, leg, view } = params;
  const sent = view.sent.get(leg.id);
  if (!sent) return undefined;
  const source = context.chains.get(leg.sourceChainId);
  const destination = context.chains.get(leg.destinationChainId);
  if (!source || !destination) return undefined;
  const sentAt = (await source.signer.public.getBlock({ blockNumber: sent.blockNumber })).timestamp;
  const sourceNow = (await source.signer.public.getBlock()).timestamp;
  if (sourceNow - sentAt <= BigInt(params.slaSeconds)) return undefined;
  const expired = (await pastDeadline(destination, sent)) && !view.received.has(leg.id);
  return {
    expired,
    finding: { kind: 'stuck_leg', severity: 'warning', legId: leg.id, chainId: leg.destinationChainId, detail: { status: leg.status, ageSeconds: String(sourceNow - sentAt), action: expired ? 'refund' : 'retry delivery' } },
  };
}

/**
 * A leg failed after its source burned the amount, never received and not refunded: the
 * account is owed it. Flagged; `expired` (refund now) once the destination can no longer take it.
 */
async function unrefundedVerdict(params: { context: ExecutionContext; leg: Leg; view: VaultView }): Promise<{ finding: Finding; expired: boolean } | undefined> {
  const { context, leg, view } = params;
  if (leg.status !== 'failed' || refundRefusal(leg.failedFrom) !== undefined) return undefined;
  const sent = view.sent.get(leg.id);
  const destination = context.chains.get(leg.destinationChainId);
  if (!sent || !destination || view.received.has(leg.id) || view.refunded.has(leg.id)) return undefined;
  const expired = await pastDeadline(destination, sent);
  return {
    expired,
    finding: { kind: 'stuck_leg', severity: 'warning', legId: leg.id, chainId: leg.destinationChainId, detail: { status: leg.status, error: leg.lastError, action: expired ? 'refund' : 'refund after the deadline' } },
  };
}

/**
 * Delivery attempted again for a leg stuck past its SLA, before its deadline makes a refund the
 * only way out: delivery is idempotent (deliver-leg.ts), so this records only the steps still
 * missing; a failed try is recorded on the leg as an attempt. Returns what came of it.
 */
async function redriveDelivery(context: ExecutionContext, leg: Leg): Promise<string> {
  try {
    await deliverLegStep(context, leg.id);
    return `delivered again: now ${(await getLeg(context.ledger, leg.id))?.status ?? 'unknown'}`;
  } catch (error) {
    const reason = shortReason(error);
    await recordLegAttempt(context.ledger, { legId: leg.id, status: leg.status, error: `reconciliation re-drove the delivery: ${reason}` });
    return `failed: ${reason}`;
  }
}

/** Whether the destination's clock is past the leg's deadline: it can never execute the leg. */
async function pastDeadline(destination: ExecutionChain, sent: SentLeg): Promise<boolean> {
  return (await destination.signer.public.getBlock()).timestamp > sent.deadline;
}

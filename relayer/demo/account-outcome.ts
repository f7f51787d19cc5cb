import { sql } from 'drizzle-orm';
import type { Address } from 'viem';
import { marginEngineAbi } from '../../chains/contracts/out/MarginEngine.js';
import type { Manifest } from '../../chains/devnet/manifest.js';
import type { SeededAccount } from '../../chains/devnet/seed.js';
import type { Signer } from '../../chains/signer.js';
import type { LedgerDatabase } from '../../db/index.js';

export interface OpenEpisode {
  readonly chain: string;
  readonly account: Address;
  readonly required: bigint;
  readonly inFlight: bigint;
  readonly revisions: number;
  /** Why the core last decided to do nothing for it, if it did. */
  readonly lastDecision?: string;
}

export interface AccountOutcome {
  /** Margin accounts the chains show below maintenance now (read with `accountOf`). */
  readonly belowMaintenance: readonly { readonly chain: string; readonly account: Address; readonly equity: bigint; readonly maintenance: bigint }[];
  /** Episodes still open: the watcher still sees the account at risk. */
  readonly atRisk: readonly OpenEpisode[];
}

/**
 * Where the crash left the accounts, judged from outside the decisions: each seeded margin
 * account's equity against its maintenance as the engine reports it, and the episodes the
 * watchers (following the chains) still hold open, with what they still require.
 */
export async function accountOutcome(params: { manifest: Manifest; seeded: readonly SeededAccount[]; readers: ReadonlyMap<string, Signer>; ledger: LedgerDatabase }): Promise<AccountOutcome> {
  const belowMaintenance: AccountOutcome['belowMaintenance'][number][] = [];
  for (const account of params.seeded) {
    const chain = params.manifest.chains.find((c) => c.key === account.chain);
    const reader = params.readers.get(account.chain);
    if (!chain || !reader) continue;
    const view = await reader.public.readContract({ address: chain.contracts.marginEngine, abi: marginEngineAbi, functionName: 'accountOf', args: [account.address] });
    if (view.positions.length > 0 && view.equity < BigInt(view.maintenanceMargin)) belowMaintenance.push({ chain: account.chain, account: account.address, equity: view.equity, maintenance: view.maintenanceMargin });
  }
  const rows = await params.ledger.execute<{ chain: string; account: Address; required: string; in_flight: string; revisions: string; reason: string | null }>(sql`
    select c.key as chain, s.account, coalesce(s.latest_required_amount, s.required_amount)::text as required,
           coalesce((select sum(l.relief) from settlements t join legs l on l.settlement_id = t.id
                     where t.shortfall_id = s.id and l.status::text not in ('credited', 'failed', 'refunded')), 0)::text as in_flight,
           (select count(*) from settlements t where t.shortfall_id = s.id)::text as revisions,
           s.detail -> 'lastDecision' ->> 'reason' as reason
    from shortfalls s join chains c on c.chain_id = s.chain_id
    where s.status = 'open' order by c.key, s.account`);
  return {
    belowMaintenance,
    atRisk: rows.rows.map((row) => ({ chain: row.chain, account: row.account, required: BigInt(row.required), inFlight: BigInt(row.in_flight), revisions: Number(row.revisions), ...(row.reason ? { lastDecision: row.reason } : {}) })),
  };
}

import { accountVerdict } from './account-verdict.js';
import type { CompiledAccount } from './compiled-account.js';
import type { MarketTable } from './market-table.js';
import type { AccountId } from './types.js';

/** The reference: every account evaluated exactly, no index; the at-risk accounts. */
export function fullScan(accounts: Iterable<CompiledAccount>, table: MarketTable): Set<AccountId> {
  const atRisk = new Set<AccountId>();
  for (const account of accounts) if (accountVerdict(account, table).atRisk) atRisk.add(account.id);
  return atRisk;
}

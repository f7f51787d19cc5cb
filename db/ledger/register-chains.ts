/** Records the configured chains; re-running with the same config changes nothing. */
import { sql } from 'drizzle-orm';
import type { LedgerExecutor } from '../client.js';
import { chains, type NewChain } from '../schema/chains.js';

export async function registerChains(
  db: LedgerExecutor,
  configured: readonly NewChain[],
): Promise<void> {
  if (configured.length === 0) return;
  await db
    .insert(chains)
    .values([...configured])
    .onConflictDoUpdate({
      target: chains.chainId,
      set: {
        key: sql`excluded.key`,
        lzEid: sql`excluded.lz_eid`,
        wormholeChainId: sql`excluded.wormhole_chain_id`,
        confirmations: sql`excluded.confirmations`,
        collateralDecimals: sql`excluded.collateral_decimals`,
      },
    });
}

import type { Hash } from 'viem';
import type { LedgerExecutor } from '../../db/index.js';
import { MESSAGE_ID } from '../api/ids.js';
import { legById, messageById, settlementById, shortfallById } from './lookup.js';

export type FoundRecord =
  | { readonly kind: 'settlement'; readonly record: NonNullable<Awaited<ReturnType<typeof settlementById>>> }
  | { readonly kind: 'leg'; readonly record: NonNullable<Awaited<ReturnType<typeof legById>>> }
  | { readonly kind: 'shortfall'; readonly record: NonNullable<Awaited<ReturnType<typeof shortfallById>>> }
  | { readonly kind: 'message'; readonly record: NonNullable<Awaited<ReturnType<typeof messageById>>> };

/**
 * Whatever the ledger knows by this id: a settlement, leg or shortfall (32-byte ids, which
 * never collide across kinds: each is a keccak of differently shaped input), or a message by
 * LayerZero GUID or Wormhole `chain/emitter/sequence`.
 */
export async function findById(db: LedgerExecutor, id: string): Promise<FoundRecord | undefined> {
  const key = id.toLowerCase();
  if (/^0x[0-9a-f]{64}$/.test(key)) {
    const settlement = await settlementById(db, key as Hash);
    if (settlement) return { kind: 'settlement', record: settlement };
    const leg = await legById(db, key as Hash);
    if (leg) return { kind: 'leg', record: leg };
    const shortfall = await shortfallById(db, key as Hash);
    if (shortfall) return { kind: 'shortfall', record: shortfall };
  }
  if (MESSAGE_ID.test(key)) {
    const message = await messageById(db, key);
    if (message) return { kind: 'message', record: message };
  }
  return undefined;
}

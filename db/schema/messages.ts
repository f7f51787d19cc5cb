/**
 * Cross-chain messages as the watchers observed them on chain: the chain's side of the
 * story, which reconciliation holds against the legs. `leg_id` is decoded from the payload
 * and deliberately not a foreign key: a message naming a leg the ledger does not know is
 * exactly what reconciliation must be able to record.
 */
import { sql } from 'drizzle-orm';
import { bigint, check, foreignKey, index, integer, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { bytes32, hexBytes, hexCheck, messageIdCheck, nonNegative, tokenAmount, uint64 } from './columns.js';
import { chains } from './chains.js';
import { transportEnum } from './enums.js';
import { instant } from './timestamps.js';

export const messages = pgTable(
  'messages',
  {
    /** Canonical id (db/message-id.ts): the LayerZero GUID, or Wormhole `chain/emitter/sequence`. */
    id: text('id').notNull(),
    transport: transportEnum('transport').notNull(),
    sourceChainId: bigint('source_chain_id', { mode: 'number' }).notNull(),
    destinationChainId: bigint('destination_chain_id', { mode: 'number' }),
    legId: bytes32('leg_id'),
    lzGuid: bytes32('lz_guid'),
    lzNonce: uint64('lz_nonce'),
    whEmitterChain: integer('wh_emitter_chain'),
    whEmitterAddress: bytes32('wh_emitter_address'),
    whSequence: uint64('wh_sequence'),
    amount: tokenAmount('amount'),
    payload: hexBytes('payload'),
    sourceTxHash: bytes32('source_tx_hash').notNull(),
    sourceBlock: bigint('source_block', { mode: 'bigint' }).notNull(),
    verifiedAt: instant('verified_at'),
    destinationTxHash: bytes32('destination_tx_hash'),
    destinationBlock: bigint('destination_block', { mode: 'bigint' }),
    deliveredAt: instant('delivered_at'),
    observedAt: instant('observed_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'messages_pkey', columns: [t.id] }),
    foreignKey({ name: 'messages_source_chain_fk', columns: [t.sourceChainId], foreignColumns: [chains.chainId] }),
    foreignKey({
      name: 'messages_destination_chain_fk',
      columns: [t.destinationChainId],
      foreignColumns: [chains.chainId],
    }),
    index('messages_leg_id_idx').on(t.legId),
    index('messages_source_tx_hash_idx').on(t.sourceTxHash),
    uniqueIndex('messages_wormhole_sequence_key').on(t.whEmitterChain, t.whEmitterAddress, t.whSequence),
    messageIdCheck(t.id),
    hexCheck(t.legId, 32),
    hexCheck(t.lzGuid, 32),
    hexCheck(t.whEmitterAddress, 32),
    hexCheck(t.sourceTxHash, 32),
    hexCheck(t.destinationTxHash, 32),
    check('messages_payload_check', sql`${t.payload} ~ '^0x([0-9a-f]{2})*$'`),
    nonNegative(t.amount),
    check(
      'messages_transport_id_check',
      sql`case ${t.transport}
            when 'layerzero' then ${t.lzGuid} is not null and ${t.id} = ${t.lzGuid}
            else ${t.whEmitterChain} is not null and ${t.whEmitterAddress} is not null and ${t.whSequence} is not null
              and ${t.id} = ${t.whEmitterChain}::text || '/' || substr(${t.whEmitterAddress}, 3) || '/' || ${t.whSequence}::text
          end`,
    ),
  ],
);

export type Message = typeof messages.$inferSelect;
export type NewMessage = typeof messages.$inferInsert;

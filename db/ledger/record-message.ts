/**
 * Records cross-chain messages as the watchers see them on chain. Keyed by the message's own
 * id, so seeing the same log twice is a no-op; a second, different delivery of one message is
 * returned to the caller (it is a reconciliation finding, not something to overwrite).
 */
import { and, eq, isNull } from 'drizzle-orm';
import type { Hash, Hex } from 'viem';
import type { LedgerExecutor } from '../client.js';
import { messageIdOf, type MessageRef } from '../message-id.js';
import { messages, type Message } from '../schema/messages.js';

export interface RecordMessageParameters {
  readonly ref: MessageRef;
  readonly sourceChainId: number;
  readonly destinationChainId?: number;
  /** The leg id decoded from the payload, whether or not the ledger knows it. */
  readonly legId?: Hash;
  readonly lzNonce?: bigint;
  readonly amount?: bigint;
  readonly payload?: Hex;
  readonly sourceTxHash: Hash;
  readonly sourceBlock: bigint;
}

export async function recordMessage(
  db: LedgerExecutor,
  params: RecordMessageParameters,
): Promise<{ readonly message: Message; readonly created: boolean }> {
  const { ref } = params;
  const id = messageIdOf(ref);
  const [inserted] = await db
    .insert(messages)
    .values({
      id,
      transport: ref.transport,
      sourceChainId: params.sourceChainId,
      destinationChainId: params.destinationChainId,
      legId: params.legId,
      lzGuid: ref.transport === 'layerzero' ? ref.guid : undefined,
      lzNonce: params.lzNonce,
      whEmitterChain: ref.transport === 'wormhole' ? ref.emitterChain : undefined,
      whEmitterAddress: ref.transport === 'wormhole' ? ref.emitter : undefined,
      whSequence: ref.transport === 'wormhole' ? ref.sequence : undefined,
      amount: params.amount,
      payload: params.payload,
      sourceTxHash: params.sourceTxHash,
      sourceBlock: params.sourceBlock,
    })
    .onConflictDoNothing({ target: messages.id })
    .returning();
  if (inserted !== undefined) return { message: inserted, created: true };
  const [existing] = await db.select().from(messages).where(eq(messages.id, id));
  if (existing === undefined) throw new Error(`message ${id} neither inserted nor found`);
  return { message: existing, created: false };
}

export interface RecordMessageDeliveryParameters {
  readonly ref: MessageRef;
  readonly destinationTxHash: Hash;
  readonly destinationBlock: bigint;
  readonly deliveredAt: Date;
}

/**
 * Records where a message was executed. Returns `recorded: false` with the stored message when
 * it already has a delivery (the same one again, or a duplicate for reconciliation to flag).
 */
export async function recordMessageDelivery(
  db: LedgerExecutor,
  params: RecordMessageDeliveryParameters,
): Promise<{ readonly message: Message | undefined; readonly recorded: boolean }> {
  const id = messageIdOf(params.ref);
  const [updated] = await db
    .update(messages)
    .set({
      destinationTxHash: params.destinationTxHash,
      destinationBlock: params.destinationBlock,
      deliveredAt: params.deliveredAt,
    })
    .where(and(eq(messages.id, id), isNull(messages.destinationTxHash)))
    .returning();
  if (updated !== undefined) return { message: updated, recorded: true };
  const [existing] = await db.select().from(messages).where(eq(messages.id, id));
  return { message: existing, recorded: false };
}

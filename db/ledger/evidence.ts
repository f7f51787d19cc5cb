/**
 * What a worker saw that justifies a transition: the transaction, block, message and money of
 * one step. Everything is optional because each step has different evidence (a plan has none,
 * a send has a tx, a block, a message id, the burned amount and the fee paid).
 */
import type { Hash } from 'viem';
import type { MessageRef } from '../message-id.js';

export interface LegEvidence {
  /** The chain the tx/block/fee is on; defaults to the leg's source chain for source-side steps
   *  (submitted, sent, refunded) and its destination chain for the others. */
  readonly chainId?: number;
  readonly txHash?: Hash;
  readonly blockNumber?: bigint;
  readonly blockHash?: Hash;
  readonly message?: MessageRef;
  /** Token base units observed in this step (burned, minted, refunded). */
  readonly amount?: bigint;
  /** Native fee paid in this step on `chainId` (gas plus messaging fee), in wei. */
  readonly fee?: bigint;
  /** That fee in USD, as a decimal string (e.g. "1.25"): a valuation, not a token amount. */
  readonly feeUsd?: string;
  /** When it happened (block time); the ledger's own clock is recorded separately. */
  readonly occurredAt?: Date;
  readonly detail?: Record<string, unknown>;
}

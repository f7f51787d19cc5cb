import type { MessageRef } from '../../db/index.js';
import type { MessageId } from '../../chains/messaging/transport.js';

/** A transport's message id as the ledger records it. */
export function messageRefOf(id: MessageId): MessageRef {
  return id.transport === 'layerzero'
    ? { transport: 'layerzero', guid: id.guid }
    : { transport: 'wormhole', emitterChain: id.emitterChain, emitter: id.emitter, sequence: id.sequence };
}

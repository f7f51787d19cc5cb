import type { Hash } from 'viem';
import type { LegExecutor } from '../orchestrator/orchestrator.js';
import { deliverLegStep } from './deliver-leg.js';
import type { ExecutionContext } from './execution-context.js';
import { sendLegStep } from './send-leg.js';

/** Legs executed on real chains through the vaults and the transports. */
export class ChainLegExecutor implements LegExecutor {
  constructor(private readonly context: ExecutionContext) {}

  sendLeg(legId: Hash): Promise<void> {
    return sendLegStep(this.context, legId);
  }

  deliverLeg(legId: Hash): Promise<void> {
    return deliverLegStep(this.context, legId);
  }
}

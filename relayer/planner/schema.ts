import { z } from 'zod';
import { parseWith } from '../validation.js';
import type { PlanInstance } from './types.js';

const nonNegative = z.number().finite().min(0, 'must be a number >= 0');

const costCurveSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('linear'), rate: nonNegative }),
  z.object({ type: z.literal('quadratic'), a: nonNegative, b: nonNegative }),
  z.object({
    type: z.literal('cpmm'),
    reserveIn: z.number().finite().positive('must be a number > 0'),
    reserveOut: z.number().finite().positive('must be a number > 0'),
    fee: z.number().min(0).lt(1, 'must be in [0, 1)'),
  }),
]);

const optionSchema = z
  .object({
    id: z.string().min(1, 'must be a non-empty string'),
    capacity: nonNegative,
    fixedCost: nonNegative,
    latency: nonNegative,
    cost: costCurveSchema,
  })
  .superRefine((option, ctx) => {
    // A pool can never give out all of its reserve: the cost diverges there.
    if (option.cost.type === 'cpmm' && option.capacity >= option.cost.reserveOut) {
      ctx.addIssue({ code: 'custom', path: ['capacity'], message: `must be below cost.reserveOut (${option.cost.reserveOut})` });
    }
  });

export const planInstanceSchema = z
  .object({
    required: nonNegative,
    riskPerSecond: nonNegative,
    options: z.array(optionSchema),
  })
  .superRefine((instance, ctx) => {
    const seen = new Set<string>();
    instance.options.forEach((option, index) => {
      if (seen.has(option.id)) ctx.addIssue({ code: 'custom', path: ['options', index, 'id'], message: `duplicate id '${option.id}'` });
      seen.add(option.id);
    });
  });

/** A planner instance from JSON; anything wrong is one error naming the field. */
export function parsePlanInstance(value: unknown, source = 'instance'): PlanInstance {
  return parseWith(planInstanceSchema, value, source);
}

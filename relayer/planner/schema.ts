import { z } from 'zod';
import { fieldPath, parseWith } from '../validation.js';
import type { PlanInstance, PlanOption } from './types.js';

/** Every number: finite (JSON's `1e999` parses to Infinity), else refused naming the field. */
const finite = () =>
  z.number({
    error: (issue) =>
      issue.input === undefined
        ? 'is required'
        : typeof issue.input === 'number'
          ? `must be a finite number, got ${String(issue.input)}`
          : `must be a number, got ${issue.input === null ? 'null' : typeof issue.input}`,
  });
const nonNegative = finite().min(0, 'must be a number >= 0');
const positive = finite().positive('must be a number > 0');

const costCurveSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('linear'), rate: nonNegative }),
  z.object({ type: z.literal('quadratic'), a: nonNegative, b: nonNegative }),
  z.object({
    type: z.literal('cpmm'),
    reserveIn: positive,
    reserveOut: positive,
    fee: finite().min(0, 'must be in [0, 1)').lt(1, 'must be in [0, 1)'),
  }),
]);

const optionFields = z.object({
  id: z.string().min(1, 'must be a non-empty string'),
  capacity: nonNegative,
  fixedCost: nonNegative,
  latency: nonNegative,
  cost: costCurveSchema,
});

const optionSchema = optionFields.superRefine((option, ctx) => {
  // A pool can never give out all of its reserve: the cost diverges there.
  if (option.cost.type === 'cpmm' && option.capacity >= option.cost.reserveOut) {
    ctx.addIssue({ code: 'custom', path: ['capacity'], message: `must be below cost.reserveOut (${option.cost.reserveOut})` });
  }
});

const instanceOf = <O extends z.ZodType<z.output<typeof optionFields>>>(option: O) =>
  z
    .object({
      required: nonNegative,
      riskPerSecond: nonNegative,
      options: z.array(option),
    })
    .superRefine((instance, ctx) => {
      const seen = new Set<string>();
      instance.options.forEach((option, index) => {
        if (seen.has(option.id)) ctx.addIssue({ code: 'custom', path: ['options', index, 'id'], message: `duplicate id '${option.id}'` });
        seen.add(option.id);
      });
    });

/** Strict: a cpmm capacity at or over its pool's `reserveOut` is an error. */
export const planInstanceSchema = instanceOf(optionSchema);
/** Lenient about pools only: such a capacity is accepted here and clamped by `readPlanInput`. */
const planInputSchema = instanceOf(optionFields);

/** A planner instance from JSON; anything wrong is one error naming the field. */
export function parsePlanInstance(value: unknown, source = 'instance'): PlanInstance {
  return parseWith(planInstanceSchema, value, source);
}

/** The share of a pool's `reserveOut` a clamped capacity keeps: just below the reserve. */
export const POOL_CAPACITY_FRACTION = 1 - 1e-9;

/** A cpmm option whose capacity was lowered to just below its pool's `reserveOut`. */
export interface CapacityClamp {
  readonly id: string;
  /** e.g. `options[1].capacity`. */
  readonly field: string;
  /** The capacity given. */
  readonly capacity: number;
  readonly reserveOut: number;
  /** The capacity planned with. */
  readonly clampedTo: number;
}

export type PlanInputResult =
  | { readonly ok: true; readonly instance: PlanInstance; readonly clamped: readonly CapacityClamp[] }
  /** `error` is `field: what is wrong`, e.g. `options[1].capacity: must be a number >= 0`. */
  | { readonly ok: false; readonly error: string };

/** Just below a positive finite x: x * POOL_CAPACITY_FRACTION, or the next double down if that rounds back to x. */
function below(x: number): number {
  const scaled = x * POOL_CAPACITY_FRACTION;
  if (scaled < x) return scaled;
  const bits = new BigInt64Array(new Float64Array([x]).buffer);
  bits[0] = (bits[0] as bigint) - 1n;
  return new Float64Array(bits.buffer)[0] as number;
}

/**
 * A planner instance from user input (`relayer plan`): refused only for a malformed or
 * out-of-range field; a cpmm capacity at or over its pool's `reserveOut` is a limit of the pool,
 * not an error, so it is clamped to just below the reserve and reported in `clamped`.
 */
export function readPlanInput(value: unknown): PlanInputResult {
  const result = planInputSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    return { ok: false, error: `${fieldPath(issue?.path ?? [])}: ${issue?.message ?? 'invalid'}` };
  }
  const clamped: CapacityClamp[] = [];
  const options = result.data.options.map((option, index): PlanOption => {
    if (option.cost.type !== 'cpmm' || option.capacity < option.cost.reserveOut) return option;
    const clampedTo = below(option.cost.reserveOut);
    clamped.push({ id: option.id, field: fieldPath(['options', index, 'capacity']), capacity: option.capacity, reserveOut: option.cost.reserveOut, clampedTo });
    return { ...option, capacity: clampedTo };
  });
  return { ok: true, instance: { ...result.data, options }, clamped };
}

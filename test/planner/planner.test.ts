import { describe, expect, it } from 'vitest';
import { plan } from '../../relayer/planner/plan.js';
import { parsePlanInstance, readPlanInput } from '../../relayer/planner/schema.js';
import { bruteForceOnGrid, gridErrorBound } from './brute-force.js';
import { expectFeasible } from './expect-feasible.js';
import { randomInstance, seededRandom } from '../../relayer/planner/random-instances.js';


describe('the planner on instances worked out by hand', () => {
  it('takes the pool alone for the design example: 0.3 + slippage 8.04 + 0.5 x 2 s', () => {
    const instance = parsePlanInstance({
      required: 1000,
      riskPerSecond: 0.5,
      options: [
        { id: 'collateral:beta:layerzero', capacity: 600, fixedCost: 1.5, latency: 12, cost: { type: 'linear', rate: 0.001 } },
        { id: 'local:alpha', capacity: 5000, fixedCost: 0.3, latency: 2, cost: { type: 'cpmm', reserveIn: 200000, reserveOut: 200000, fee: 0.003 } },
      ],
    });
    const result = plan(instance);
    // dx = 200000 * 1000 / (199000 * 0.997) = 1008.0439...; cost = dx - 1000.
    const slippage = (200000 * 1000) / (199000 * 0.997) - 1000;
    expect(result.allocations).toEqual([{ id: 'local:alpha', amount: 1000 }]);
    expect(result.totalCost).toBeCloseTo(0.3 + slippage + 0.5 * 2, 9);
    expect(result.exact).toBe(true);
  });

  it('fills the cheaper linear source first and the next one with the rest', () => {
    const result = plan({
      required: 1000,
      riskPerSecond: 0,
      options: [
        { id: 'dear', capacity: 800, fixedCost: 1, latency: 0, cost: { type: 'linear', rate: 0.01 } },
        { id: 'cheap', capacity: 700, fixedCost: 1, latency: 0, cost: { type: 'linear', rate: 0.002 } },
      ],
    });
    // 700 at 0.002 + 300 at 0.01 + two fixed costs = 1.4 + 3 + 2.
    expect(result.allocations).toEqual([
      { id: 'dear', amount: 300 },
      { id: 'cheap', amount: 700 },
    ]);
    expect(result.totalCost).toBeCloseTo(6.4, 9);
  });

  it('pays a higher variable cost to avoid a fixed cost', () => {
    const result = plan({
      required: 100,
      riskPerSecond: 0,
      options: [
        { id: 'a', capacity: 100, fixedCost: 5, latency: 0, cost: { type: 'linear', rate: 0.01 } },
        { id: 'b', capacity: 100, fixedCost: 0, latency: 0, cost: { type: 'linear', rate: 0.04 } },
      ],
    });
    // a: 5 + 1 = 6; b: 4; a split only adds a's fixed cost.
    expect(result.allocations).toEqual([{ id: 'b', amount: 100 }]);
    expect(result.totalCost).toBeCloseTo(4, 9);
  });

  it('equalizes marginal costs across two quadratic sources', () => {
    // v1 = x^2 / 100, v2 = x^2 / 300: marginals 2x/100 = 2y/300 with x + y = 400 -> x = 100, y = 300.
    const result = plan({
      required: 400,
      riskPerSecond: 0,
      options: [
        { id: 'steep', capacity: 1000, fixedCost: 0, latency: 0, cost: { type: 'quadratic', a: 0, b: 0.01 } },
        { id: 'flat', capacity: 1000, fixedCost: 0, latency: 0, cost: { type: 'quadratic', a: 0, b: 1 / 300 } },
      ],
    });
    expect(result.allocations[0]?.amount).toBeCloseTo(100, 6);
    expect(result.allocations[1]?.amount).toBeCloseTo(300, 6);
    expect(result.totalCost).toBeCloseTo(100 + 300, 6);
  });

  it('prefers a fast source when waiting is dear, a slow cheap one when it is not', () => {
    const options = [
      { id: 'slow-cheap', capacity: 1000, fixedCost: 0, latency: 60, cost: { type: 'linear' as const, rate: 0 } },
      { id: 'fast-dear', capacity: 1000, fixedCost: 0, latency: 1, cost: { type: 'linear' as const, rate: 0.01 } },
    ];
    // 1000 at 0.01 = 10: slow wins while 60 * risk < 10 - risk, i.e. risk < 10/59.
    expect(plan({ required: 1000, riskPerSecond: 0.1, options }).allocations.map((a) => a.id)).toEqual(['slow-cheap']);
    expect(plan({ required: 1000, riskPerSecond: 0.2, options }).allocations.map((a) => a.id)).toEqual(['fast-dear']);
  });

  it('covers what it can and reports the rest when capacity is short', () => {
    const result = plan({
      required: 1000,
      riskPerSecond: 1,
      options: [
        { id: 'a', capacity: 300, fixedCost: 1, latency: 5, cost: { type: 'linear', rate: 0.01 } },
        { id: 'b', capacity: 200, fixedCost: 2, latency: 9, cost: { type: 'quadratic', a: 0, b: 0.001 } },
        { id: 'empty', capacity: 0, fixedCost: 0, latency: 0, cost: { type: 'linear', rate: 0 } },
      ],
    });
    expect(result.uncovered).toBe(500);
    expect(result.allocations).toEqual([
      { id: 'a', amount: 300 },
      { id: 'b', amount: 200 },
    ]);
    // 1 + 3 + 2 + 0.001 * 200^2 + 1 * 9.
    expect(result.totalCost).toBeCloseTo(1 + 3 + 2 + 40 + 9, 9);
  });

  it('plans nothing for nothing required', () => {
    expect(plan({ required: 0, riskPerSecond: 1, options: [] })).toEqual({ allocations: [], totalCost: 0, uncovered: 0, exact: true, gapBound: 0 });
  });
});

describe('the planner against an independent brute force', () => {
  it('matches exhaustive search on 600 random instances (grid optimum within its rounding bound)', () => {
    const random = seededRandom(20261124);
    const unit = 10;
    let compared = 0;
    for (let round = 0; round < 600; round += 1) {
      const instance = randomInstance({ random, options: 1 + (round % 6), unit, curves: ['linear', 'quadratic', 'cpmm'] });
      const result = plan(instance);
      expectFeasible(instance, result);
      const reference = bruteForceOnGrid(instance, unit);
      expect(instance.required - result.uncovered).toBeCloseTo(reference.covered, 6);
      // The continuous optimum is never worse than the best grid point...
      expect(result.totalCost).toBeLessThanOrEqual(reference.cost + 1e-7 * (1 + reference.cost));
      // ...and no better than the grid optimum minus the grid's rounding error.
      expect(result.totalCost).toBeGreaterThanOrEqual(reference.cost - gridErrorBound(instance, unit) - 1e-7);
      compared += 1;
    }
    expect(compared).toBe(600);
  });

  it('matches exhaustive search exactly on 300 linear instances, where the grid holds the optimum', () => {
    // With linear costs an optimum fills options whole except one, at grid points: the grid
    // brute force is then exact, and the planner must meet it to rounding.
    const random = seededRandom(7);
    for (let round = 0; round < 300; round += 1) {
      const instance = randomInstance({ random, options: 1 + (round % 7), unit: 10, curves: ['linear'] });
      const result = plan(instance);
      expectFeasible(instance, result);
      expect(result.totalCost).toBeCloseTo(bruteForceOnGrid(instance, 10).cost, 7);
    }
  });

  it('stays exact up to 16 options and states a gap bound above that', () => {
    const random = seededRandom(99);
    const sixteen = randomInstance({ random, options: 16, unit: 10, curves: ['linear', 'quadratic', 'cpmm'] });
    expect(plan(sixteen).exact).toBe(true);
    const many = randomInstance({ random, options: 40, unit: 10, curves: ['linear', 'quadratic', 'cpmm'] });
    const result = plan(many);
    expectFeasible(many, result);
    expect(result.gapBound).toBeGreaterThanOrEqual(0);
    if (result.exact) expect(result.gapBound).toBe(0);
  });
});

describe('planner input', () => {
  const valid = { required: 10, riskPerSecond: 0, options: [{ id: 'a', capacity: 10, fixedCost: 0, latency: 0, cost: { type: 'linear', rate: 0 } }] };
  it.each([
    [{ ...valid, required: -1 }, 'required: must be a number >= 0'],
    [{ ...valid, riskPerSecond: 'fast' }, 'riskPerSecond'],
    [{ ...valid, options: [{ ...valid.options[0], capacity: -5 }] }, 'options[0].capacity: must be a number >= 0'],
    [{ ...valid, options: [{ ...valid.options[0], cost: { type: 'cubic' } }] }, 'options[0].cost.type'],
    [{ ...valid, options: [{ ...valid.options[0], cost: { type: 'cpmm', reserveIn: 100, reserveOut: 10, fee: 0.003 } }] }, 'options[0].capacity: must be below cost.reserveOut (10)'],
    [{ ...valid, options: [{ ...valid.options[0], cost: { type: 'cpmm', reserveIn: 100, reserveOut: 100, fee: 1 } }] }, 'options[0].cost.fee: must be in [0, 1)'],
    [{ ...valid, options: [valid.options[0], valid.options[0]] }, "options[1].id: duplicate id 'a'"],
    [{ ...valid, required: Number.POSITIVE_INFINITY }, 'required: must be a finite number, got Infinity'],
    [{ ...valid, riskPerSecond: Number.NaN }, 'riskPerSecond: must be a finite number, got NaN'],
    [{ ...valid, options: [{ ...valid.options[0], latency: Number.NEGATIVE_INFINITY }] }, 'options[0].latency: must be a finite number, got -Infinity'],
    [{ ...valid, options: [{ ...valid.options[0], fixedCost: null }] }, 'options[0].fixedCost: must be a number, got null'],
    [{ ...valid, options: [{ ...valid.options[0], cost: { type: 'linear', rate: -0.1 } }] }, 'options[0].cost.rate: must be a number >= 0'],
    [{ ...valid, options: [{ ...valid.options[0], cost: { type: 'quadratic', a: -1, b: 0 } }] }, 'options[0].cost.a: must be a number >= 0'],
    [{ ...valid, options: [{ ...valid.options[0], cost: { type: 'cpmm', reserveIn: 0, reserveOut: 100, fee: 0 } }] }, 'options[0].cost.reserveIn: must be a number > 0'],
    [{ ...valid, options: [{ ...valid.options[0], cost: { type: 'cpmm', reserveIn: 100, reserveOut: 100, fee: -0.5 } }] }, 'options[0].cost.fee: must be in [0, 1)'],
    [{ ...valid, options: [{ ...valid.options[0], cost: { type: 'cpmm', reserveIn: 100, reserveOut: 100 } }] }, 'options[0].cost.fee: is required'],
  ])('refuses %j naming the field', (value, message) => {
    expect(() => parsePlanInstance(value, 'in.json')).toThrow(`in.json: ${message}`);
  });
});

describe('planner input from a user (relayer plan)', () => {
  const cpmm = (capacity: number, reserveOut: number) => ({ id: 'pool', capacity, fixedCost: 0, latency: 0, cost: { type: 'cpmm', reserveIn: 100, reserveOut, fee: 0 } });

  it('clamps a cpmm capacity at or over reserveOut to just below it and reports it', () => {
    for (const capacity of [10, 11, 1e12]) {
      const read = readPlanInput({ required: 5, riskPerSecond: 0, options: [cpmm(capacity, 10)] });
      if (!read.ok) throw new Error(read.error);
      const clampedTo = read.instance.options[0]?.capacity ?? Number.NaN;
      expect(clampedTo).toBeLessThan(10);
      expect(clampedTo).toBeGreaterThan(10 * (1 - 1e-8));
      expect(read.clamped).toEqual([{ id: 'pool', field: 'options[0].capacity', capacity, reserveOut: 10, clampedTo }]);
      expect(plan(read.instance).allocations).toEqual([{ id: 'pool', amount: 5 }]);
    }
  });

  it('leaves a capacity below reserveOut alone and keeps the other fields', () => {
    const value = { required: 5, riskPerSecond: 0.25, options: [cpmm(9, 10)] };
    expect(readPlanInput(value)).toEqual({ ok: true, instance: value, clamped: [] });
  });

  it('stays strictly below a reserve too small to scale down', () => {
    const reserveOut = Number.MIN_VALUE * 4;
    const read = readPlanInput({ required: 0, riskPerSecond: 0, options: [cpmm(1, reserveOut)] });
    if (!read.ok) throw new Error(read.error);
    expect(read.instance.options[0]?.capacity).toBeLessThan(reserveOut);
    expect(read.instance.options[0]?.capacity).toBe(Number.MIN_VALUE * 3);
  });

  it('refuses a bad field as `field: message`, the same checks as the strict parser', () => {
    expect(readPlanInput({ required: 1, riskPerSecond: 0, options: [{ ...cpmm(5, 10), capacity: -1 }] })).toEqual({ ok: false, error: 'options[0].capacity: must be a number >= 0' });
    expect(readPlanInput({ required: 1, riskPerSecond: 0, options: [{ ...cpmm(5, 10), cost: { type: 'cubic' } }] })).toMatchObject({ ok: false, error: expect.stringMatching(/^options\[0\]\.cost\.type: /) as unknown });
    expect(readPlanInput({ required: 1, riskPerSecond: 0, options: [cpmm(5, 10), cpmm(5, 10)] })).toEqual({ ok: false, error: "options[1].id: duplicate id 'pool'" });
  });
});

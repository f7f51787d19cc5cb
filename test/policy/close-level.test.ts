/**
 * The home close and the engine's liquidation buffer (issue 14: fewer account-hours below
 * maintenance): below maintenance the core closes on past it, toward the close level the engine
 * allows (maintenance plus the buffer, so the next tick down does not put it under again), but
 * never further than the need; without a buffer it restores maintenance only.
 *
 * One long of 10,000 USD at m 5% (MM 500), penalty 2%, with 400 of equity, into a 10M pool at the
 * oracle with no fee: closing x sells for Y x / (Y + x).
 */
import { describe, expect, it } from 'vitest';
import { decide, usdOf, type PolicyDecision } from '../../relayer/policy/index.js';
import { oneLong } from './generators.js';

const POOL = 10_000_000;
const NOTIONAL = 10_000;
const EQUITY = 400;

/** Equity and notional after closing x (USD) through the pool, penalty paid. */
function afterClose(x: number): { equity: number; notional: number } {
  const proceeds = (POOL * x) / (POOL + x);
  return { equity: EQUITY - (x - proceeds) - 0.02 * x, notional: NOTIONAL - x };
}

function homeCloseOf(decision: PolicyDecision): { amount: number; relief: number } {
  expect(decision.kind).toBe('home');
  const leg = decision.kind === 'none' ? undefined : decision.legs[0];
  expect(leg?.kind).toBe('local');
  return { amount: usdOf(leg?.amount ?? 0n), relief: usdOf(leg?.relief ?? 0n) };
}

const account = (buffer: number, target: number) =>
  oneLong({ equityUsd: EQUITY, notionalUsd: NOTIONAL, position: { liquidationBufferFraction: buffer, targetFraction: target } });

describe('a home close with a liquidation buffer', () => {
  it('goes on to the close level when the need reaches past it', () => {
    // Target 9%: the need (900 - 400) is more than the close level (8%) frees.
    const { amount } = homeCloseOf(decide(account(0.03, 0.09)));
    const after = afterClose(amount);
    const overLevel = after.equity - 0.08 * after.notional;
    expect(overLevel).toBeGreaterThanOrEqual(0);
    expect(overLevel).toBeLessThan(0.01);
    expect(after.equity - 0.05 * after.notional).toBeGreaterThan(0.03 * after.notional - 0.01);
  });

  it('stops at the need when that is short of the close level', () => {
    // Target 6%: a need of 200 of relief (6% of what is closed, less its cost), short of the level.
    const decision = decide(account(0.03, 0.06));
    const { amount, relief } = homeCloseOf(decision);
    expect(relief).toBeCloseTo(usdOf(decision.need), 5);
    const after = afterClose(amount);
    expect(after.equity - 0.05 * after.notional).toBeGreaterThan(0);
    expect(after.equity - 0.08 * after.notional).toBeLessThan(-1);
  });

  it('restores maintenance only without a buffer', () => {
    const { amount } = homeCloseOf(decide(account(0, 0.09)));
    const after = afterClose(amount);
    const overMaintenance = after.equity - 0.05 * after.notional;
    expect(overMaintenance).toBeGreaterThanOrEqual(0);
    expect(overMaintenance).toBeLessThan(0.01);
  });
});

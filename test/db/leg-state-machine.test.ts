import { describe, expect, it } from 'vitest';
import {
  LEG_STATUSES,
  LEG_TRANSITIONS,
  REFUNDABLE_FAILED_FROM,
  isLegalTransition,
  isTerminal,
  transitionRefusal,
  type LegStatus,
} from '../../db/leg-state-machine.js';

function reachableFrom(start: LegStatus): Set<LegStatus> {
  const seen = new Set<LegStatus>([start]);
  const queue: LegStatus[] = [start];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const to of LEG_TRANSITIONS[next]) {
      if (!seen.has(to)) {
        seen.add(to);
        queue.push(to);
      }
    }
  }
  return seen;
}

describe('leg state machine', () => {
  it('has every status reachable from planned', () => {
    expect([...reachableFrom('planned')].sort()).toEqual([...LEG_STATUSES].sort());
  });

  it('has no cycles, so "status is still X" is a sound compare-and-set', () => {
    for (const status of LEG_STATUSES) {
      for (const to of LEG_TRANSITIONS[status]) expect(reachableFrom(to).has(status)).toBe(false);
    }
  });

  it('ends only in credited and refunded', () => {
    expect(LEG_STATUSES.filter(isTerminal)).toEqual(['credited', 'refunded']);
  });

  it('follows the happy path one step at a time', () => {
    const happy: LegStatus[] = ['planned', 'submitted', 'sent', 'verified', 'delivered', 'credited'];
    for (let i = 0; i + 1 < happy.length; i += 1) {
      const from = happy[i] as LegStatus;
      expect(isLegalTransition(from, happy[i + 1] as LegStatus)).toBe(true);
      for (const later of happy.slice(i + 2)) expect(isLegalTransition(from, later)).toBe(false);
    }
  });

  it('can fail before delivery and never after', () => {
    const canFail = LEG_STATUSES.filter((status) => isLegalTransition(status, 'failed'));
    expect(canFail).toEqual(['planned', 'submitted', 'sent', 'verified']);
  });

  it('refunds only a leg that failed after its source burned the amount', () => {
    expect(LEG_STATUSES.filter((status) => isLegalTransition(status, 'refunded'))).toEqual(['failed']);
    expect(REFUNDABLE_FAILED_FROM).toEqual(['sent', 'verified']);
    for (const failedFrom of ['planned', 'submitted', 'sent', 'verified'] as const) {
      const refusal = transitionRefusal({ from: 'failed', to: 'refunded', failedFrom });
      expect(refusal === undefined).toBe(failedFrom === 'sent' || failedFrom === 'verified');
    }
  });

  it('explains a refusal with the allowed next statuses', () => {
    expect(transitionRefusal({ from: 'sent', to: 'credited', failedFrom: null })).toBe(
      'sent -> credited is not a leg transition (from sent: verified, failed)',
    );
    expect(transitionRefusal({ from: 'credited', to: 'failed', failedFrom: null })).toMatch(/none, it is final/);
  });
});

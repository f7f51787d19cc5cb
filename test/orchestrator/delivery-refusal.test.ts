import { describe, expect, it } from 'vitest';
import { refusalFailsLeg } from '../../relayer/execution/delivery-refusal.js';

const LEG = '0x1111111111111111111111111111111111111111111111111111111111111111';
const OTHER = '0x2222222222222222222222222222222222222222222222222222222222222222';

describe('a destination refusal', () => {
  it('fails the leg when the leg itself can never execute there', () => {
    expect(refusalFailsLeg(LEG, { name: 'LegExpired', args: [LEG, 1n, 2n] })).toBe(true);
    expect(refusalFailsLeg(LEG, { name: 'LegAlreadyProcessed', args: [LEG, 4] })).toBe(true); // canceled
    expect(refusalFailsLeg(LEG, { name: 'UnsupportedPayloadVersion', args: [2n] })).toBe(true);
  });

  it('leaves the leg deliverable when only the delivered message was bad, or the leg is already credited', () => {
    expect(refusalFailsLeg(LEG, { name: 'InvalidVaa', args: ['no quorum'] })).toBe(false);
    expect(refusalFailsLeg(LEG, { name: 'UnknownEmitter', args: [4, OTHER] })).toBe(false);
    expect(refusalFailsLeg(LEG, { name: 'LegAlreadyProcessed', args: [LEG, 3] })).toBe(false); // executed: a credit not read yet
    expect(refusalFailsLeg(LEG, { name: 'LegAlreadyProcessed', args: [OTHER, 4] })).toBe(false); // about another leg
    expect(refusalFailsLeg(LEG, undefined)).toBe(false);
  });
});

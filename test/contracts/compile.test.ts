import { describe, expect, it } from 'vitest';
import { compileContracts, staleOutputs } from '../../chains/contracts/compile.js';

describe('chains/contracts/out', () => {
  it('is exactly what a fresh compile of chains/contracts/src produces', () => {
    const modules = compileContracts();
    expect([...modules.keys()].sort()).toEqual(['CollateralToken.ts', 'MarginEngine.ts', 'MarketPriceFeed.ts', 'MessageProbe.ts', 'Vault.ts']);
    expect(staleOutputs(modules)).toEqual([]);
  });
});

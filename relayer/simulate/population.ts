/**
 * The seeded account population of a scenario: home chain by `accountShare`, 1..n markets,
 * log-normal notional and leverage (capped so every account opens at or above initial margin),
 * positions opened at the initial price, and surplus collateral on other chains.
 */
import type { AccountBook } from './book.js';
import { normal, streamFor, type Random } from './random.js';
import type { Scenario } from './scenario/schema.js';

export function generatePopulation(scenario: Scenario): AccountBook {
  const spec = scenario.population;
  const random = streamFor(spec.seed ?? scenario.seed, 'population');
  const count = spec.accounts;
  const chainCount = scenario.chains.length;
  const positions = { market: [] as number[], size: [] as number[], entry: [] as number[] };
  const remotes = { chain: [] as number[], amount: [] as number[] };
  const home = new Int32Array(count);
  const collateral = new Float64Array(count);
  const positionStart = new Int32Array(count + 1);
  const remoteStart = new Int32Array(count + 1);
  const optedIn = new Uint8Array(count);
  const weights = scenario.chains.map((chain) => chain.accountShare);
  for (let i = 0; i < count; i++) {
    const chain = weightedIndex(random, weights);
    home[i] = chain;
    let notionalUsd = 0;
    const marketCount = integerIn(random, spec.marketsPerAccount);
    for (const market of distinct({ random, size: scenario.markets.length, count: marketCount, excluded: -1 })) {
      const price = scenario.markets[market]?.initialPrice ?? 1;
      const notional = Math.min(spec.notionalUsd.max ?? Number.POSITIVE_INFINITY, spec.notionalUsd.median * Math.exp(spec.notionalUsd.spread * normal(random)));
      const long = random() < spec.longShare;
      positions.market.push(market);
      positions.size.push(((long ? 1 : -1) * notional) / price);
      positions.entry.push(price);
      notionalUsd += notional;
    }
    positionStart[i + 1] = positions.market.length;
    const leverage = Math.min(spec.leverage.max, spec.leverage.median * Math.exp(spec.leverage.spread * normal(random)));
    const own = notionalUsd / leverage;
    collateral[i] = own;
    const spanned = integerIn(random, spec.chainsSpanned);
    for (const other of distinct({ random, size: chainCount, count: spanned - 1, excluded: chain })) {
      remotes.chain.push(other);
      remotes.amount.push(own * (spec.surplusElsewhere.min + (spec.surplusElsewhere.max - spec.surplusElsewhere.min) * random()));
    }
    remoteStart[i + 1] = remotes.chain.length;
    optedIn[i] = random() < spec.optInShare ? 1 : 0;
  }
  return {
    count,
    home,
    collateral,
    positionStart,
    positionMarket: Int32Array.from(positions.market),
    positionSize: Float64Array.from(positions.size),
    positionEntry: Float64Array.from(positions.entry),
    remoteStart,
    remoteChain: Int32Array.from(remotes.chain),
    remoteCollateral: Float64Array.from(remotes.amount),
    optedIn,
  };
}

function integerIn(random: Random, range: { readonly min: number; readonly max: number }): number {
  return range.min + Math.floor(random() * (range.max - range.min + 1));
}

function weightedIndex(random: Random, weights: readonly number[]): number {
  const total = weights.reduce((sum, w) => sum + w, 0);
  let pick = random() * total;
  for (let i = 0; i < weights.length; i++) {
    pick -= weights[i] ?? 0;
    if (pick < 0) return i;
  }
  // Rounding at the very end of the range: the last chain that has any weight.
  for (let i = weights.length - 1; i >= 0; i--) if ((weights[i] ?? 0) > 0) return i;
  return 0;
}

/** `count` distinct indices of [0, size) other than `excluded`, in random order. */
function distinct(params: { random: Random; size: number; count: number; excluded: number }): number[] {
  const { random, size, count, excluded } = params;
  const pool = Array.from({ length: size }, (_, i) => i).filter((i) => i !== excluded);
  const picked: number[] = [];
  for (let n = 0; n < count && pool.length > 0; n++) {
    const j = Math.floor(random() * pool.length);
    const [item] = pool.splice(j, 1);
    if (item !== undefined) picked.push(item);
  }
  return picked;
}

/**
 * Seeded random snapshots for the decision core's property tests, and a small builder for the
 * hand-computed unit tests. Every generated snapshot describes a real account: the assessment is
 * computed from its positions (MM = sum notional * m, IM = sum notional * im, required =
 * max(0, sum notional * targetFraction - equity)), fractions keep the engine's order
 * (0 < penalty < m < im < 1), sources sit on other chains, one per (kind, chain).
 */
import type { Transport } from '../../db/index.js';
import type { PolicyInFlight, PolicyPosition, PolicyRoute, PolicySnapshot, PolicySource } from '../../relayer/policy/index.js';
import type { SeededRandom } from '../../relayer/seeded-random.js';

export const HOME_CHAIN_ID = 1;
export const UNITS = 1_000_000;

/** USD to base units, rounded to the nearest unit. */
export const usd = (amount: number): bigint => BigInt(Math.round(amount * UNITS));

/** Assessment numbers from positions and an equity, exactly as the brief defines them. */
export function assess(positions: readonly PolicyPosition[], equity: bigint, atRisk?: boolean): PolicySnapshot['assessment'] {
  const sum = (fraction: (p: PolicyPosition) => number, round: (x: number) => number) => positions.reduce((total, p) => total + BigInt(round(Number(p.notional) * fraction(p))), 0n);
  const maintenance = sum((p) => p.maintenanceFraction, Math.round);
  const initial = sum((p) => p.initialFraction, Math.round);
  const target = sum((p) => p.targetFraction, Math.ceil);
  const required = target > equity ? target - equity : 0n;
  return { atRisk: atRisk ?? required > 0n, equity, maintenance, initial, required };
}

function randomPosition(random: SeededRandom, i: number): PolicyPosition {
  const maintenanceFraction = random.between(0.02, 0.15);
  const penalty = maintenanceFraction * random.between(0.1, 0.9);
  const initialFraction = Math.min(0.9, maintenanceFraction * random.between(1.2, 2.5));
  // m_eff (1 + target): usually a little above maintenance, sometimes past initial (high volatility).
  const effective = random.chance(0.7) ? maintenanceFraction : maintenanceFraction * random.between(1, 3);
  const targetFraction = Math.min(0.95, effective * (1 + random.between(0.05, 0.5)));
  const notionalUsd = Math.exp(random.between(Math.log(10), Math.log(1e6)));
  const oraclePrice = random.pick([1, 30, 3_000, 60_000]);
  const quoteUsd = notionalUsd * Math.exp(random.between(Math.log(0.5), Math.log(200)));
  // The pool at the oracle half the time, otherwise off it as trades leave it (mostly below: sales).
  const poolToOracle = random.chance(0.5) ? 1 : random.between(0.9, 1.05);
  return {
    marketId: `M${i}`,
    notional: usd(notionalUsd),
    long: random.chance(0.5),
    maintenanceFraction,
    initialFraction,
    // Half the markets let a close go on past maintenance, up to some of the way to initial.
    liquidationBufferFraction: random.chance(0.5) ? 0 : (initialFraction - maintenanceFraction) * random.between(0, 1),
    targetFraction,
    penalty,
    oraclePrice,
    // From a quiet market to a crash (1e-3 per square root of a second is about 560% a year).
    sigma: random.pick([0, 1e-5, 1e-4, 1e-4, 5e-4, 1e-3]),
    // The backstop holds nothing, or up to 50 times the position on either side.
    backstopNotional: random.chance(0.5) ? 0n : usd(notionalUsd * random.between(-50, 50)),
    pool: poolAt({ quoteUsd, oraclePrice, poolToOracle, fee: random.pick([0, 0.0005, 0.003, 0.01]) }),
  };
}

/** A pool of `quoteUsd` quote reserve whose price is `poolToOracle` times the oracle: base reserve quote / price. */
export function poolAt(params: { quoteUsd: number; oraclePrice: number; poolToOracle?: number; fee?: number }): PolicyPosition['pool'] {
  const price = params.oraclePrice * (params.poolToOracle ?? 1);
  return { quoteReserve: usd(params.quoteUsd), baseReserve: params.quoteUsd / price, fee: params.fee ?? 0 };
}

function randomRoutes(random: SeededRandom): PolicyRoute[] {
  const transports: Transport[] = random.chance(0.5) ? ['layerzero', 'wormhole'] : [random.pick(['layerzero', 'wormhole'] as const)];
  return transports.map((transport) => ({ transport, fixedCostUsd: random.between(0.05, 25), latencySeconds: random.pick([4, 12, 30, 60, 180, 900]) * random.between(0.8, 1.2) }));
}

/**
 * A snapshot near trouble more often than not: 1 to 3 positions, equity from deep below zero to
 * well above the target, 0 to 3 legs in flight, 0 to 5 sources (several routes each), some
 * routes avoided, one in ten marked not at risk whatever its numbers.
 */
export function randomSnapshot(random: SeededRandom, id: string): PolicySnapshot {
  const positions = Array.from({ length: random.int(1, 3) }, (_, i) => randomPosition(random, i));
  const maintenanceUsd = positions.reduce((sum, p) => sum + (Number(p.notional) / UNITS) * p.maintenanceFraction, 0);
  const equity = usd(maintenanceUsd * random.pick([random.between(-0.5, 0.5), random.between(0.5, 1), random.between(0.9, 1.1), random.between(1, 3), random.between(1, 3)]));
  const assessment = assess(positions, equity, random.chance(0.1) ? false : undefined);
  const requiredUsd = Number(assessment.required) / UNITS;
  const scale = Math.max(requiredUsd, maintenanceUsd * 0.1, 1);

  const inFlight: PolicyInFlight[] = Array.from({ length: random.pick([0, 0, 1, 1, 2, 3]) }, () => ({
    kind: random.pick(['collateral', 'liquidity'] as const),
    relief: usd(scale * random.between(0, 0.7)),
    etaSeconds: random.pick([0, random.between(0, 20), random.between(20, 900)]),
  }));

  const sources: PolicySource[] = [];
  const chains = random.sample([2, 3, 4, 5], random.int(0, 4));
  for (const chainId of chains) {
    for (const kind of random.sample(['collateral', 'liquidity'] as const, random.int(1, 2))) {
      const capacity = random.chance(0.1) ? 0n : usd(scale * Math.exp(random.between(Math.log(0.02), Math.log(5))));
      sources.push({ kind, chainId, key: `chain${chainId}`, capacity, routes: randomRoutes(random) });
    }
  }
  const routes = sources.flatMap((source) => source.routes.map((route) => ({ chainId: source.chainId, kind: source.kind, transport: route.transport })));
  const avoid = routes.filter(() => random.chance(0.2));

  return {
    account: id,
    chainId: HOME_CHAIN_ID,
    chainKey: 'alpha',
    assessment,
    positions,
    inFlight,
    sources,
    avoid,
    terms: {
      riskPerSecondPerUsd: random.pick([0, 1e-6, 1e-5, 1e-4, 1e-3]),
      minAction: random.chance(0.3) ? 0n : usd(random.between(0, 20)),
      liquidityRate: random.pick([0, 0.001, 0.01, 0.05]),
      homeGasUsd: random.between(0.05, 5),
      homeLatencySeconds: random.pick([2, 6, 12, 15]),
      z: random.pick([0, 1, 3]),
      localImpactBudget: random.pick([0.005, 0.02, 0.1, 0.5]),
      unwindImpactBudget: random.pick([0.005, 0.01, 0.05]),
      blockSeconds: random.pick([2, 12, 60]),
      arbitrageHalfLifeSeconds: random.pick([0, 60, 300]),
    },
  };
}

/** The unit tests' asset price (a pool of 10,000,000 USD then holds 10,000 units). */
export const ORACLE_PRICE = 1_000;

/**
 * The unit tests' terms: no price of waiting, no minimum, no charge for the vault's margin, a home
 * action of 0.5 USD mined in 12 s (a block); no volatility priced (z 0: a takeover carries no risk
 * price unless a test sets one), a 50% pool budget for home closes (pacing only where a test
 * tightens it), a 1% unwind budget, arbitrage restoring a pool within a block.
 */
export const ONE_LONG_TERMS: PolicySnapshot['terms'] = {
  riskPerSecondPerUsd: 0,
  minAction: 0n,
  liquidityRate: 0,
  homeGasUsd: 0.5,
  homeLatencySeconds: 12,
  z: 0,
  localImpactBudget: 0.5,
  unwindImpactBudget: 0.01,
  blockSeconds: 12,
  arbitrageHalfLifeSeconds: 0,
};

/** A plain one-position account for hand computations (fractions and pool overridable). */
export function oneLong(params: { equityUsd: number; notionalUsd?: number; position?: Partial<PolicyPosition> } & Partial<Omit<PolicySnapshot, 'assessment' | 'positions'>>): PolicySnapshot {
  const { equityUsd, notionalUsd = 10_000, position: overrides, ...rest } = params;
  const position: PolicyPosition = {
    marketId: 'ETH',
    notional: usd(notionalUsd),
    long: true,
    maintenanceFraction: 0.05,
    initialFraction: 0.1,
    liquidationBufferFraction: 0,
    targetFraction: 0.06,
    penalty: 0.02,
    oraclePrice: ORACLE_PRICE,
    sigma: 0,
    backstopNotional: 0n,
    pool: poolAt({ quoteUsd: 10_000_000, oraclePrice: ORACLE_PRICE }),
    ...overrides,
  };
  return {
    account: '0xaccount',
    chainId: HOME_CHAIN_ID,
    chainKey: 'alpha',
    assessment: assess([position], usd(equityUsd)),
    positions: [position],
    inFlight: [],
    sources: [],
    avoid: [],
    terms: ONE_LONG_TERMS,
    ...rest,
  };
}

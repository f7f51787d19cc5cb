/**
 * Collateral is a 6-decimal USD stablecoin. The decision core reasons in USD numbers (as the
 * planner does) and answers in base units: amounts it plans are rounded down so a plan never
 * asks a source for more than it holds; requirements it must meet are rounded up.
 */
export const BASE_UNITS_PER_USD = 1_000_000;

export const usdOf = (units: bigint): number => Number(units) / BASE_UNITS_PER_USD;

export const unitsDown = (usd: number): bigint => (usd > 0 && Number.isFinite(usd) ? BigInt(Math.floor(usd * BASE_UNITS_PER_USD)) : 0n);

export const unitsUp = (usd: number): bigint => (usd > 0 && Number.isFinite(usd) ? BigInt(Math.ceil(usd * BASE_UNITS_PER_USD)) : 0n);

export const minUnits = (a: bigint, b: bigint): bigint => (a < b ? a : b);

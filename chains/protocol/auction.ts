import { ceilDiv, WAD } from './units.js';

/** A market's Dutch auction parameters (MarginEngine.AuctionConfig): WAD fractions and seconds. */
export interface AuctionConfig {
  readonly buf: bigint;
  readonly cut: bigint;
  readonly cusp: bigint;
  readonly step: bigint;
  readonly tail: bigint;
}

/** x^n for a WAD fraction x by squaring, each product rounded down: MarginEngine._rpow. */
export function rpow(x: bigint, n: bigint): bigint {
  let z = WAD;
  let base = x;
  let exponent = n;
  while (exponent !== 0n) {
    if ((exponent & 1n) !== 0n) z = (z * base) / WAD;
    exponent >>= 1n;
    if (exponent !== 0n) base = (base * base) / WAD;
  }
  return z;
}

/** Where a lot starts (MarginEngine._auctionTop): oracle x buf for a long, oracle / buf for a short. */
export function auctionTop(params: { oraclePrice: bigint; buf: bigint; long: boolean }): bigint {
  const { oraclePrice, buf, long } = params;
  return long ? (oraclePrice * buf) / WAD : ceilDiv(oraclePrice * WAD, buf);
}

/**
 * An auction's price `elapsed` seconds after its (re)start, and whether a reset is due
 * (MarginEngine._auctionPrice): f = cut^floor(elapsed / step); a long lot costs top x f, a short
 * lot top / f; a reset is due once elapsed > tail or f < cusp.
 */
export function auctionPrice(params: { config: AuctionConfig; top: bigint; long: boolean; elapsed: bigint }): { price: bigint; needsReset: boolean } {
  const { config, top, long, elapsed } = params;
  const factor = rpow(config.cut, elapsed / config.step);
  const needsReset = elapsed > config.tail || factor < config.cusp;
  if (long) return { price: (top * factor) / WAD, needsReset };
  return { price: factor === 0n ? 2n ** 256n - 1n : ceilDiv(top * WAD, factor), needsReset };
}

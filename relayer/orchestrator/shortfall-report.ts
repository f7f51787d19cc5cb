import { getAddress, type Address } from 'viem';
import { z } from 'zod';
import { SHORTFALL_REASONS, shortfallIdOf, type RecordShortfallParameters } from '../../db/index.js';

const integer = z.string().regex(/^-?\d+$/, 'must be an integer in a decimal string');
const unsigned = z.string().regex(/^\d+$/, 'must be a non-negative integer in a decimal string');
const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 0x-prefixed 20-byte hex address')
  .transform((value) => getAddress(value) as Address);

/**
 * A watcher's shortfall report as it travels through the `shortfalls` queue: JSON, so token
 * amounts (base units) are decimal strings. Validated again when a worker takes it: a job is
 * data from outside the process.
 */
export const shortfallReportSchema = z.object({
  chainId: z.number().int().positive(),
  engine: address,
  account: address,
  episode: unsigned,
  reason: z.enum(SHORTFALL_REASONS),
  equity: integer,
  maintenance: unsigned,
  requiredAmount: unsigned,
  /** The effective maintenance fraction the watcher used. */
  mEff: z.number().finite().nonnegative(),
  /** m_eff (1 + target) per market id (lower case) of the account: what the required amount restores. */
  targetFractions: z.record(z.string().regex(/^0x[0-9a-f]{64}$/, 'must be a lower-case 32-byte market id'), z.number().finite().nonnegative()).default({}),
  /** The watcher's EWMA sigma per market id (lower case), per square root of a second. */
  sigmas: z.record(z.string().regex(/^0x[0-9a-f]{64}$/, 'must be a lower-case 32-byte market id'), z.number().finite().nonnegative()).default({}),
  detectedBlock: unsigned,
  detectedAt: z.iso.datetime(),
});

export type ShortfallReport = z.input<typeof shortfallReportSchema>;
/** A report as validated: addresses checksummed. */
export type ParsedReport = z.output<typeof shortfallReportSchema>;

/**
 * The report's ledger id. Addresses are lower-cased first: their spelling does not change the
 * id, and a mixed-case address with a wrong checksum is still the same address (the schema
 * accepts it, so the id must too); the ABI encoding checks what is left.
 */
export function shortfallIdOfReport(report: ShortfallReport) {
  return shortfallIdOf({ chainId: report.chainId, engine: report.engine.toLowerCase() as Address, account: report.account.toLowerCase() as Address, episode: BigInt(report.episode) });
}

/** The ledger row for a (validated) report. */
export function shortfallRecord(report: ParsedReport): RecordShortfallParameters {
  return {
    chainId: report.chainId,
    engine: report.engine,
    account: report.account,
    episode: BigInt(report.episode),
    reason: report.reason,
    equity: BigInt(report.equity),
    maintenance: BigInt(report.maintenance),
    requiredAmount: BigInt(report.requiredAmount),
    detectedBlock: BigInt(report.detectedBlock),
    detectedAt: new Date(report.detectedAt),
    detail: { mEff: report.mEff, targetFractions: report.targetFractions, sigmas: report.sigmas },
  };
}

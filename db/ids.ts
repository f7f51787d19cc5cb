/**
 * Ids derived from what happened, so a repeat of the same fact is the same row (backed by
 * primary keys) and a retry is a no-op by construction. All are keccak256 of the ABI
 * encoding (not packed: every field is its own 32-byte word, so no two inputs collide).
 */
import { encodeAbiParameters, keccak256, type Address, type Hash } from 'viem';

export interface ShortfallIdParameters {
  readonly chainId: number | bigint;
  /** The chain's margin engine. */
  readonly engine: Address;
  readonly account: Address;
  /** Counts the account's distinct shortfall episodes on that engine (a new breach after recovery is a new episode). */
  readonly episode: bigint;
}

/** `keccak256(abi.encode(uint256 chainId, address engine, address account, uint64 episode))` */
export function shortfallIdOf(params: ShortfallIdParameters): Hash {
  return keccak256(
    encodeAbiParameters(
      [{ type: 'uint256' }, { type: 'address' }, { type: 'address' }, { type: 'uint64' }],
      [BigInt(params.chainId), params.engine, params.account, params.episode],
    ),
  );
}

export interface SettlementIdParameters {
  readonly shortfallId: Hash;
  /** 0 for the first plan of a shortfall; a replan after failures is the next revision. */
  readonly revision: number;
}

/** `keccak256(abi.encode(bytes32 shortfallId, uint32 revision))` */
export function settlementIdOf(params: SettlementIdParameters): Hash {
  return keccak256(
    encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint32' }], [params.shortfallId, params.revision]),
  );
}

export interface LegIdParameters {
  readonly settlementId: Hash;
  /** The leg's position in its settlement's plan. */
  readonly index: number;
}

/** `keccak256(abi.encode(bytes32 settlementId, uint32 index))`: the id the vault checks against replay. */
export function legIdOf(params: LegIdParameters): Hash {
  return keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint32' }], [params.settlementId, params.index]));
}

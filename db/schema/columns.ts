/**
 * Column types shared by every aggregate. Token amounts are exact integers of any size
 * (uint256 fits in numeric(78,0)), so they travel as bigint and never as a JS number;
 * addresses and hashes are lower-case hex in SQL (one spelling, so joins and unique keys work)
 * and viem's types in TypeScript.
 */
import { getTableName, sql } from 'drizzle-orm';
import { check, customType, type PgColumn } from 'drizzle-orm/pg-core';
import { getAddress, type Address, type Hash, type Hex } from 'viem';

/** Parses what a driver returns for a numeric column; a JS number would already have lost digits. */
export function bigintFromDriver(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  throw new TypeError(`expected an integer numeric as a string, got ${typeof value} ${String(value)}`);
}

/** An amount in token base units (or wei): `numeric(78, 0)`, signed only where a column says so. */
export const tokenAmount = customType<{ data: bigint; driverData: string }>({
  dataType: () => 'numeric(78, 0)',
  toDriver: (value) => value.toString(),
  fromDriver: (value) => bigintFromDriver(value),
});

/** An unsigned 64-bit counter (a Wormhole sequence) that int8 cannot hold in full. */
export const uint64 = customType<{ data: bigint; driverData: string }>({
  dataType: () => 'numeric(20, 0)',
  toDriver: (value) => value.toString(),
  fromDriver: (value) => bigintFromDriver(value),
});

/** A 20-byte EVM address; stored lower-case, read back checksummed. */
export const address = customType<{ data: Address; driverData: string }>({
  dataType: () => 'text',
  toDriver: (value) => value.toLowerCase(),
  fromDriver: (value) => getAddress(value),
});

/** A 32-byte value: a transaction or block hash, or one of our keccak ids. */
export const bytes32 = customType<{ data: Hash; driverData: string }>({
  dataType: () => 'text',
  toDriver: (value) => value.toLowerCase(),
  fromDriver: (value) => value as Hash,
});

/** Arbitrary bytes as 0x-hex (a message payload). */
export const hexBytes = customType<{ data: Hex; driverData: string }>({
  dataType: () => 'text',
  toDriver: (value) => value.toLowerCase(),
  fromDriver: (value) => value as Hex,
});

/** `<table>_<column>_check`: the name every single-column guard below gets. */
function checkName(column: PgColumn): string {
  return `${getTableName(column.table)}_${column.name}_check`;
}

/** The database's own guard that a hex column holds exactly `bytes` bytes, lower-case. */
export function hexCheck(column: PgColumn, bytes: number): ReturnType<typeof check> {
  return check(checkName(column), sql`${column} ~ ${sql.raw(`'^0x[0-9a-f]{${bytes * 2}}$'`)}`);
}

/** A guard that a numeric amount is not negative. */
export function nonNegative(column: PgColumn): ReturnType<typeof check> {
  return check(checkName(column), sql`${column} >= 0`);
}

/** Canonical message id: a LayerZero GUID, or Wormhole `chain/emitter/sequence` (see db/message-id.ts). */
export function messageIdCheck(column: PgColumn): ReturnType<typeof check> {
  return check(checkName(column), sql`${column} ~ '^(0x[0-9a-f]{64}|[0-9]{1,5}/[0-9a-f]{64}/[0-9]{1,20})$'`);
}

import { decodeAbiParameters, encodeAbiParameters, type Address, type Hash, type Hex } from 'viem';
import type { TransportKind } from '../messaging/transport.js';

/** The payload version the vaults send and accept (Vault.PAYLOAD_VERSION). */
export const LEG_PAYLOAD_VERSION = 1;

/** Vault.KIND_*: what a leg does on arrival. */
export const LEG_KIND = { collateral: 1, liquidity: 2, refund: 3 } as const;
export type LegKind = keyof typeof LEG_KIND;

/** Vault.TRANSPORT_*: the transport selector of `sendCollateral` / `sendLiquidity` / `cancelLeg`. */
export const TRANSPORT_ID: Record<TransportKind, number> = { layerzero: 1, wormhole: 2 };

/** A refund carries no deadline (Vault.NO_DEADLINE). */
export const NO_DEADLINE = 2n ** 64n - 1n;

/** DESIGN.md's message tuple. */
const LEG_PAYLOAD = [
  { name: 'version', type: 'uint8' },
  { name: 'kind', type: 'uint8' },
  { name: 'legId', type: 'bytes32' },
  { name: 'account', type: 'address' },
  { name: 'amount', type: 'uint256' },
  { name: 'marketId', type: 'bytes32' },
  { name: 'size', type: 'int256' },
  { name: 'deadline', type: 'uint64' },
] as const;

export interface LegPayload {
  readonly version: number;
  readonly kind: number;
  readonly legId: Hash;
  readonly account: Address;
  /** Collateral token base units. */
  readonly amount: bigint;
  readonly marketId: Hex;
  /** The position size a liquidity leg absorbs (signed, 1e18 scale); 0 otherwise. */
  readonly size: bigint;
  /** Unix seconds after which the destination refuses the leg. */
  readonly deadline: bigint;
}

/** The bytes a vault sends for this leg, byte for byte. */
export function encodeLegPayload(payload: LegPayload): Hex {
  const { version, kind, legId, account, amount, marketId, size, deadline } = payload;
  return encodeAbiParameters(LEG_PAYLOAD, [version, kind, legId, account, amount, marketId, size, deadline]);
}

export function decodeLegPayload(data: Hex): LegPayload {
  const [version, kind, legId, account, amount, marketId, size, deadline] = decodeAbiParameters(LEG_PAYLOAD, data);
  return { version, kind, legId, account, amount, marketId, size, deadline };
}

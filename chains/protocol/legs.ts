import type { Address, Hash, Hex, TransactionReceipt } from 'viem';
import type { OutboundMessage, Transport } from '../messaging/transport.js';
import type { Signer } from '../signer.js';
import { vaultCallAbi } from './abi.js';
import { encodeLegPayload, LEG_KIND, LEG_PAYLOAD_VERSION, NO_DEADLINE, TRANSPORT_ID } from './payload.js';

/** A chain as a leg sees it: its key for the transports, its EVM chain id and its vault. */
export interface VaultChain {
  readonly key: string;
  readonly chainId: number;
  readonly contracts: { readonly vault: Address };
}

export interface CollateralLeg {
  readonly kind: 'collateral';
  readonly legId: Hash;
  /** The account whose free collateral moves; the same address is credited on the destination. */
  readonly account: Address;
  /** Collateral token base units. */
  readonly amount: bigint;
  /** Unix seconds after which the destination refuses the leg. */
  readonly deadline: bigint;
}

export interface LiquidityLeg {
  readonly kind: 'liquidity';
  readonly legId: Hash;
  /** The account whose position the backstop absorbs on the destination. */
  readonly account: Address;
  /** Reserve burned here and minted into the destination's backstop, in base units. */
  readonly amount: bigint;
  readonly market: Hex;
  /** Signed like the position; the destination absorbs at most this much. */
  readonly size: bigint;
  readonly deadline: bigint;
}

export type Leg = CollateralLeg | LiquidityLeg;

/** The exact payload the source vault will send for this leg. */
export function legPayload(leg: Leg): Hex {
  return encodeLegPayload({
    version: LEG_PAYLOAD_VERSION,
    kind: LEG_KIND[leg.kind],
    legId: leg.legId,
    account: leg.account,
    amount: leg.amount,
    marketId: leg.kind === 'liquidity' ? leg.market : `0x${'0'.repeat(64)}`,
    size: leg.kind === 'liquidity' ? leg.size : 0n,
    deadline: leg.deadline,
  });
}

/** The payload a destination vault sends back when a leg is canceled there. */
export function refundPayload(legId: Hash): Hex {
  return encodeLegPayload({
    version: LEG_PAYLOAD_VERSION,
    kind: LEG_KIND.refund,
    legId,
    account: '0x0000000000000000000000000000000000000000',
    amount: 0n,
    marketId: `0x${'0'.repeat(64)}`,
    size: 0n,
    deadline: NO_DEADLINE,
  });
}

interface LegRoute {
  /** The relayer's signer on the chain that sends. */
  readonly signer: Signer;
  readonly transport: Transport;
  readonly from: VaultChain;
  readonly to: VaultChain;
  /** Gas the destination vault needs to receive the leg (default: the transport's). */
  readonly receiveGas?: bigint;
}

/**
 * Starts a leg from `from`'s vault to `to`'s over `transport`: the transport quotes the fee, the
 * vault is called with it, and the message is identified in the receipt by its exact payload.
 * Delivering it is `transport.deliver(message)`.
 */
export function sendLeg(params: LegRoute & { leg: Leg }): Promise<OutboundMessage> {
  const { signer, transport, from, to, leg, receiveGas } = params;
  const options = transport.sendOptions(receiveGas);
  const selector = TRANSPORT_ID[transport.kind];
  const dst = BigInt(to.chainId);
  const submit = (fee: bigint): Promise<TransactionReceipt> =>
    leg.kind === 'collateral'
      ? signer.write({
          address: from.contracts.vault,
          abi: vaultCallAbi,
          functionName: 'sendCollateral',
          args: [dst, leg.account, leg.amount, leg.legId, leg.deadline, selector, options],
          value: fee,
          label: 'Vault',
        })
      : signer.write({
          address: from.contracts.vault,
          abi: vaultCallAbi,
          functionName: 'sendLiquidity',
          args: [dst, leg.account, leg.amount, leg.market, leg.size, leg.legId, leg.deadline, selector, options],
          value: fee,
          label: 'Vault',
        });
  return transport.send({ source: from.key, destination: to.key, sender: from.contracts.vault, receiver: to.contracts.vault, payload: legPayload(leg), ...(receiveGas === undefined ? {} : { receiveGas }), submit });
}

/**
 * Cancels, on `from` (the leg's destination), a leg from `to` that was never executed there, and
 * sends the refund back to `to` (the leg's source), where it is minted back once delivered.
 */
export function cancelLeg(params: LegRoute & { legId: Hash }): Promise<OutboundMessage> {
  const { signer, transport, from, to, legId, receiveGas } = params;
  const options = transport.sendOptions(receiveGas);
  return transport.send({
    source: from.key,
    destination: to.key,
    sender: from.contracts.vault,
    receiver: to.contracts.vault,
    payload: refundPayload(legId),
    ...(receiveGas === undefined ? {} : { receiveGas }),
    submit: (fee) =>
      signer.write({
        address: from.contracts.vault,
        abi: vaultCallAbi,
        functionName: 'cancelLeg',
        args: [BigInt(to.chainId), legId, TRANSPORT_ID[transport.kind], options],
        value: fee,
        label: 'Vault',
      }),
  });
}

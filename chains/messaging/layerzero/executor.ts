import { Options } from '@layerzerolabs/lz-v2-utilities';
import { isAddressEqual, pad, parseEventLogs, type Address, type Hash, type Hex } from 'viem';
import { RelayerError } from '../../../relayer/errors.js';
import type { Signer } from '../../signer.js';
import { endpointAbi, executorAbi } from './abi.js';
import type { LzPacket } from './packet.js';

/** Gas the executor's own call needs around the receiver's `lzReceive` gas. */
const EXECUTOR_OVERHEAD_GAS = 200_000n;

/** The lzReceive gas and value the sender paid for, from the packet's executor options. */
export function lzReceiveOption(options: Hex): { gas: bigint; value: bigint } {
  const decoded = Options.fromOptions(options).decodeExecutorLzReceiveOption();
  if (!decoded) throw new RelayerError(`packet options ${options} carry no lzReceive option`);
  return { gas: BigInt(decoded.gas.toString()), value: BigInt(decoded.value.toString()) };
}

/**
 * Plays the executor for one verified packet: `Executor.execute302` with the gas the sender
 * paid for. It does not revert when the receiver's `lzReceive` fails (it emits
 * `LzReceiveAlert` instead), so delivery is read from the endpoint's `PacketDelivered`.
 */
export async function executeAsExecutor(params: {
  admin: Signer;
  executor: Address;
  endpoint: Address;
  packet: LzPacket;
}): Promise<Hash> {
  const { admin, executor, endpoint, packet } = params;
  const { gas, value } = lzReceiveOption(packet.options);
  const receipt = await admin.write({
    address: executor,
    abi: executorAbi,
    functionName: 'execute302',
    args: [
      {
        receiver: packet.receiver,
        origin: { srcEid: packet.srcEid, sender: pad(packet.sender, { size: 32 }), nonce: packet.nonce },
        guid: packet.guid,
        message: packet.message,
        extraData: '0x',
        gasLimit: gas,
      },
    ],
    value,
    gas: gas + EXECUTOR_OVERHEAD_GAS,
    label: 'Executor',
  });
  const delivered = parseEventLogs({ abi: endpointAbi, eventName: 'PacketDelivered', logs: receipt.logs }).some(
    (event) => isAddressEqual(event.address, endpoint) && event.args.origin.nonce === packet.nonce && isAddressEqual(event.args.receiver, packet.receiver),
  );
  if (delivered) return receipt.transactionHash;
  const alert = parseEventLogs({ abi: endpointAbi, eventName: 'LzReceiveAlert', logs: receipt.logs })[0];
  throw new RelayerError(`packet ${packet.guid} was not delivered to ${packet.receiver} on chain ${admin.chainId}`, {
    details: alert ? `lzReceive failed: ${alert.args.reason}` : 'no PacketDelivered event',
    retryable: true,
  });
}

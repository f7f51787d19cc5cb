import { encodeFunctionData, encodePacked, isAddressEqual, keccak256, parseEventLogs, type Address, type LocalAccount } from 'viem';
import { RelayerError } from '../../../relayer/errors.js';
import type { Signer } from '../../signer.js';
import { dvnAbi, receiveUlnAbi } from './abi.js';
import type { LzPacket } from './packet.js';

/** How long a signed verification stays executable on the DVN contract. */
const SIGNATURE_LIFETIME_SECONDS = 3_600n;

export interface DvnDeployment {
  readonly dvn: Address;
  readonly dvnVid: number;
  readonly receiveUln: Address;
}

/**
 * Plays the DVN for one packet on its destination chain: the DVN signer signs
 * `ReceiveUln302.verify(header, payloadHash, confirmations)` as the DVN contract expects
 * (EIP-191 over keccak(vid, target, expiration, callData)), an admin submits it through
 * `DVN.execute`, and the verification is committed to the endpoint. `DVN.execute` skips a bad
 * item without reverting, so success is read from the ULN's `PayloadVerified` event.
 */
export async function verifyAsDvn(params: {
  admin: Signer;
  dvnSigner: LocalAccount;
  deployment: DvnDeployment;
  packet: LzPacket;
  confirmations: bigint;
}): Promise<void> {
  const { admin, dvnSigner, deployment, packet, confirmations } = params;
  const callData = encodeFunctionData({ abi: receiveUlnAbi, functionName: 'verify', args: [packet.header, packet.payloadHash, confirmations] });
  const block = await admin.public.getBlock();
  const expiration = block.timestamp + SIGNATURE_LIFETIME_SECONDS;
  const digest = keccak256(encodePacked(['uint32', 'address', 'uint256', 'bytes'], [deployment.dvnVid, deployment.receiveUln, expiration, callData]));
  const signature = await dvnSigner.signMessage({ message: { raw: digest } });
  const receipt = await admin.write({
    address: deployment.dvn,
    abi: dvnAbi,
    functionName: 'execute',
    args: [[{ vid: deployment.dvnVid, target: deployment.receiveUln, callData, expiration, signatures: signature }]],
    label: 'DVN',
  });
  const verified = parseEventLogs({ abi: receiveUlnAbi, eventName: 'PayloadVerified', logs: receipt.logs }).some(
    (event) => isAddressEqual(event.address, deployment.receiveUln) && isAddressEqual(event.args.dvn, deployment.dvn),
  );
  if (!verified) {
    const failed = parseEventLogs({ abi: dvnAbi, eventName: 'VerifySignaturesFailed', logs: receipt.logs }).length > 0;
    throw new RelayerError(
      `DVN ${deployment.dvn} on chain ${admin.chainId} did not verify packet ${packet.guid}: ${failed ? 'signatures rejected' : 'item skipped (expired or wrong vid)'}`,
    );
  }
  await admin.write({ address: deployment.receiveUln, abi: receiveUlnAbi, functionName: 'commitVerification', args: [packet.header, packet.payloadHash], label: 'ReceiveUln302' });
}

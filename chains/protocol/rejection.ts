import { decodeErrorResult, type Hex } from 'viem';
import { errorCall } from '../signer.js';
import { vaultCallAbi } from './abi.js';

/**
 * Why a vault refused a LayerZero message, from its `LegRejected` reason (the revert data it
 * caught instead of reverting): the vault's custom error as one line, `LegExpired(...)`.
 */
export function rejectionReason(reason: Hex): string {
  try {
    const decoded = decodeErrorResult({ abi: vaultCallAbi, data: reason });
    return errorCall(decoded.errorName, decoded.args);
  } catch {
    return `unknown error ${reason}`;
  }
}

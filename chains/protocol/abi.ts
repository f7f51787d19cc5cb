import type { Abi } from 'viem';
import { collateralTokenAbi } from '../contracts/out/CollateralToken.js';
import { marginEngineAbi } from '../contracts/out/MarginEngine.js';
import { vaultAbi } from '../contracts/out/Vault.js';
import { endpointAbi } from '../messaging/layerzero/abi.js';

type ErrorOf<abi extends Abi> = Extract<abi[number], { type: 'error' }>;

const errorsOf = <const abi extends Abi>(abi: abi): ErrorOf<abi>[] => abi.filter((item): item is ErrorOf<abi> => item.type === 'error');

/**
 * The vault's ABI with the errors of what it calls: a refusal by the margin engine (no consent,
 * not enough free collateral), the token or the LayerZero endpoint (fee too low) bubbles up
 * through the vault, and reads as its name only when the caller's ABI knows it.
 */
export const vaultCallAbi = [...vaultAbi, ...errorsOf(marginEngineAbi), ...errorsOf(collateralTokenAbi), ...errorsOf(endpointAbi)];

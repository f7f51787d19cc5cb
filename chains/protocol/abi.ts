import type { Abi } from 'viem';
import { collateralTokenAbi } from '../contracts/out/CollateralToken.js';
import { marginEngineAbi } from '../contracts/out/MarginEngine.js';
import { marketPriceFeedAbi } from '../contracts/out/MarketPriceFeed.js';
import { messageProbeAbi } from '../contracts/out/MessageProbe.js';
import { vaultAbi } from '../contracts/out/Vault.js';
import { endpointAbi } from '../messaging/layerzero/abi.js';
import { layerZeroErrors } from '../messaging/layerzero/artifacts.js';

type ErrorOf<abi extends Abi> = Extract<abi[number], { type: 'error' }>;

const errorsOf = <const abi extends Abi>(abi: abi): ErrorOf<abi>[] => abi.filter((item): item is ErrorOf<abi> => item.type === 'error');

/**
 * The vault's ABI with the errors of what it calls: a refusal by the margin engine (no consent,
 * not enough free collateral), the token or the LayerZero endpoint (fee too low) bubbles up
 * through the vault, and reads as its name only when the caller's ABI knows it.
 */
export const vaultCallAbi = [...vaultAbi, ...errorsOf(marginEngineAbi), ...errorsOf(collateralTokenAbi), ...errorsOf(endpointAbi)];

let shared: Abi | undefined;

/**
 * Every custom error a call of the node can meet, whichever contract raised it: the project's
 * contracts (vault, margin engine, token, price feed, probe) and every deployed LayerZero
 * contract. The signer decodes each revert on the write path against the called contract's
 * ABI plus these, so a refusal that bubbles up from a contract the caller's ABI does not
 * describe still reads by name (`LegExpired(...)`, not `unknown error 0x3433f6fd`).
 */
export function sharedErrorAbi(): Abi {
  shared ??= dedupeErrors([
    ...errorsOf(vaultAbi),
    ...errorsOf(marginEngineAbi),
    ...errorsOf(collateralTokenAbi),
    ...errorsOf(marketPriceFeedAbi),
    ...errorsOf(messageProbeAbi),
    ...errorsOf(endpointAbi),
    ...layerZeroErrors(),
  ]);
  return shared;
}

/** One entry per error signature (the same error declared by several contracts decodes the same). */
function dedupeErrors(items: readonly Abi[number][]): Abi {
  const seen = new Set<string>();
  return items.filter((item) => {
    if (item.type !== 'error') return false;
    const signature = `${item.name}(${item.inputs.map((input) => input.type).join(',')})`;
    if (seen.has(signature)) return false;
    seen.add(signature);
    return true;
  });
}

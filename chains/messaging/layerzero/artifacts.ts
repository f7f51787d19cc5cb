import { createRequire } from 'node:module';
import type { Abi, Hex } from 'viem';

/** The LayerZero V2 contracts the devnet deploys, by artifact path inside their npm packages. */
const artifactPaths = {
  EndpointV2: '@layerzerolabs/lz-evm-protocol-v2/artifacts/contracts/EndpointV2.sol/EndpointV2.json',
  EndpointV2View: '@layerzerolabs/lz-evm-protocol-v2/artifacts/contracts/EndpointV2View.sol/EndpointV2View.json',
  SendUln302: '@layerzerolabs/lz-evm-messagelib-v2/artifacts/contracts/uln/uln302/SendUln302.sol/SendUln302.json',
  ReceiveUln302: '@layerzerolabs/lz-evm-messagelib-v2/artifacts/contracts/uln/uln302/ReceiveUln302.sol/ReceiveUln302.json',
  PriceFeed: '@layerzerolabs/lz-evm-messagelib-v2/artifacts/contracts/PriceFeed.sol/PriceFeed.json',
  Executor: '@layerzerolabs/lz-evm-messagelib-v2/artifacts/contracts/Executor.sol/Executor.json',
  ExecutorFeeLib: '@layerzerolabs/lz-evm-messagelib-v2/artifacts/contracts/ExecutorFeeLib.sol/ExecutorFeeLib.json',
  DVN: '@layerzerolabs/lz-evm-messagelib-v2/artifacts/contracts/uln/dvn/DVN.sol/DVN.json',
  DVNFeeLib: '@layerzerolabs/lz-evm-messagelib-v2/artifacts/contracts/uln/dvn/DVNFeeLib.sol/DVNFeeLib.json',
} as const;

export type LayerZeroContract = keyof typeof artifactPaths;

export interface Artifact {
  readonly abi: Abi;
  readonly bytecode: Hex;
}

const require = createRequire(import.meta.url);
const cache = new Map<LayerZeroContract, Artifact>();

export function layerZeroArtifact(name: LayerZeroContract): Artifact {
  let artifact = cache.get(name);
  if (!artifact) {
    const json = require(artifactPaths[name]) as { abi: Abi; bytecode: Hex };
    artifact = { abi: json.abi, bytecode: json.bytecode };
    cache.set(name, artifact);
  }
  return artifact;
}

/**
 * Every custom error of the deployed LayerZero contracts: a revert inside the endpoint or a
 * message library surfaces through an OApp whose own ABI does not know these errors.
 */
export function layerZeroErrors(): Abi {
  const seen = new Set<string>();
  const errors: Abi[number][] = [];
  for (const name of Object.keys(artifactPaths) as LayerZeroContract[]) {
    for (const item of layerZeroArtifact(name).abi) {
      if (item.type !== 'error') continue;
      const key = `${item.name}(${item.inputs.map((input) => input.type).join(',')})`;
      if (!seen.has(key)) {
        seen.add(key);
        errors.push(item);
      }
    }
  }
  return errors;
}

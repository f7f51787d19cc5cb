import type { LedgerDatabase } from '../../db/index.js';
import type { Manifest } from '../../chains/devnet/manifest.js';
import type { DevnetTransports } from '../../chains/devnet/transports.js';
import { RelayerError } from '../errors.js';
import type { ExecutionChain, ExecutionContext } from './execution-context.js';

/** Leg execution over a devnet manifest, with the node's relayer signer on every chain. */
export function devnetExecutionContext(params: { manifest: Manifest; transports: DevnetTransports; ledger: LedgerDatabase; actor: string }): ExecutionContext {
  const chains = new Map<number, ExecutionChain>(
    params.manifest.chains.map((chain) => {
      const signer = params.transports.relayers.get(chain.key);
      if (!signer) throw new RelayerError(`no relayer signer for chain '${chain.key}'`);
      return [chain.chainId, { key: chain.key, chainId: chain.chainId, vault: chain.contracts.vault, marginEngine: chain.contracts.marginEngine, signer }];
    }),
  );
  return { ledger: params.ledger, chains, transports: { layerzero: params.transports.layerzero, wormhole: params.transports.wormhole }, actor: params.actor };
}

import { bytesToHex } from 'viem';
import { devnetAccount, devnetRoles } from '../../chains/devnet/keys.js';
import type { Manifest } from '../../chains/devnet/manifest.js';
import type { NodeConfigFile } from './config.js';

/** A devnet account's private key (anvil's public test mnemonic: never a secret). */
function devnetKey(index: number): `0x${string}` {
  const key = devnetAccount(index).getHdKey().privateKey;
  if (!key) throw new Error(`no private key for devnet account ${index}`);
  return bytesToHex(key);
}

/**
 * The node's config for a devnet manifest, and the environment it needs: the relayer and DVN
 * keys are the devnet's own accounts; Wormhole VAAs are signed by the devnet guardian.
 */
export function nodeConfigForDevnet(params: { manifest: Manifest; nodeId?: string; redisPrefix: string; port?: number; reconcileEveryMs?: number; watchers?: boolean }): {
  config: NodeConfigFile;
  env: Record<string, string>;
} {
  return {
    config: {
      node: { id: params.nodeId ?? 'devnet-node' },
      // The main job prints its own progress; the node says only what went wrong.
      log: { level: 'warn' },
      redis: { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix: params.redisPrefix },
      http: { host: '127.0.0.1', port: params.port ?? 0 },
      chains: params.manifest.chains.map((chain) => ({
        key: chain.key,
        chainId: chain.chainId,
        rpcUrls: [chain.rpcUrl],
        lzEid: chain.lzEid,
        wormholeChainId: chain.wormholeChainId,
        confirmations: 0,
        contracts: {
          vault: chain.contracts.vault,
          marginEngine: chain.contracts.marginEngine,
          collateralToken: chain.contracts.collateralToken,
          lzEndpoint: chain.contracts.lzEndpoint,
          lzEndpointView: chain.contracts.lzEndpointView,
          lzReceiveUln302: chain.contracts.lzReceiveUln302,
          lzExecutor: chain.contracts.lzExecutor,
          lzDvn: chain.contracts.lzDvn,
          wormholeCore: chain.contracts.wormholeCore,
        },
        lzDvnVid: chain.lzDvnVid,
        markets: chain.markets,
      })),
      messaging: { layerzero: 'node-dvn-executor', wormhole: { vaaSource: 'devnet-guardian' }, receiveGas: 300_000 },
      reconcile: { everyMs: params.reconcileEveryMs ?? 5_000, slaSeconds: 600 },
      // Devnet blocks come as fast as transactions: poll the heads often.
      watchers: { enabled: params.watchers ?? true, pollIntervalMs: 100, leaseTtlMs: 3_000 },
    },
    env: {
      RELAYER_PRIVATE_KEY: devnetKey(devnetRoles.relayer),
      RELAYER_DVN_PRIVATE_KEY: devnetKey(devnetRoles.dvnSigner),
    },
  };
}

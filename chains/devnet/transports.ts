import type { Account } from 'viem';
import { messageProbeAbi } from '../contracts/out/MessageProbe.js';
import { vaultCallAbi } from '../protocol/abi.js';
import { LayerZeroTransport } from '../messaging/layerzero/transport.js';
import { DevnetGuardianVaaSource, type VaaSource } from '../messaging/wormhole/vaa-source.js';
import { WormholeTransport } from '../messaging/wormhole/transport.js';
import { Signer } from '../signer.js';
import { devnetAccount, devnetRoles } from './keys.js';
import { LZ_CONFIRMATIONS } from './layerzero.js';
import type { Manifest } from './manifest.js';

/** Gas the devnet pays for a receiver's lzReceive: a first delivery writes fresh slots. */
export const DEVNET_RECEIVE_GAS = 300_000n;

export interface DevnetTransports {
  readonly layerzero: LayerZeroTransport;
  readonly wormhole: WormholeTransport;
  /** The node's signer on each chain, by key (one nonce queue per chain). */
  readonly relayers: ReadonlyMap<string, Signer>;
}

/**
 * Both transports over a devnet manifest, with the node playing every off-chain role: DVN and
 * executor for LayerZero, guardian (by default) and deliverer for Wormhole.
 */
export function devnetTransports(params: { manifest: Manifest; relayer?: Account; vaaSource?: VaaSource }): DevnetTransports {
  const relayer = params.relayer ?? devnetAccount(devnetRoles.relayer);
  const relayers = new Map(params.manifest.chains.map((chain) => [chain.key, new Signer({ chainId: chain.chainId, rpcUrl: chain.rpcUrl, name: chain.key }, relayer)]));
  const layerzero = new LayerZeroTransport({
    chains: params.manifest.chains.map((chain) => ({
      ...chain,
      layerZero: {
        endpoint: chain.contracts.lzEndpoint,
        endpointView: chain.contracts.lzEndpointView,
        receiveUln: chain.contracts.lzReceiveUln302,
        executor: chain.contracts.lzExecutor,
        dvn: chain.contracts.lzDvn,
        dvnVid: chain.lzDvnVid,
      },
    })),
    relayers,
    dvnSigner: devnetAccount(devnetRoles.dvnSigner),
    receiveGas: DEVNET_RECEIVE_GAS,
    confirmations: LZ_CONFIRMATIONS,
  });
  const wormhole = new WormholeTransport({
    chains: params.manifest.chains.map((chain) => ({ ...chain, wormhole: { core: chain.contracts.wormholeCore } })),
    relayers,
    vaaSource: params.vaaSource ?? new DevnetGuardianVaaSource(),
    // The devnet's receivers are the vaults and the probes: their refusals read by name.
    receiverErrors: [...vaultCallAbi, ...messageProbeAbi].filter((item) => item.type === 'error'),
  });
  return { layerzero, wormhole, relayers };
}

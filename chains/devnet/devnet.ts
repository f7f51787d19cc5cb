import { pad } from 'viem';
import { RelayerError } from '../../relayer/errors.js';
import { messageProbeAbi, messageProbeBytecode } from '../contracts/out/MessageProbe.js';
import { Signer } from '../signer.js';
import { startAnvil, type Anvil } from './anvil.js';
import { anvilControl } from './control.js';
import { devnetAccount, devnetRoles } from './keys.js';
import { deployLayerZero, wireLayerZero } from './layerzero.js';
import type { Manifest, ManifestChain } from './manifest.js';
import { deployProtocol, wireProtocol } from './protocol.js';
import { installWormholeCore } from './wormhole.js';

/** Chain n (0-based) of a devnet: its key and ids on each network. */
const KEYS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa'] as const;
/** Real Wormhole chain ids the SDK knows (Ethereum, BSC, Polygon, Avalanche, Arbitrum, ...). */
const WORMHOLE_CHAIN_IDS = [2, 4, 5, 6, 23, 24, 30, 10, 14, 16] as const;
export const MAX_DEVNET_CHAINS = KEYS.length;
const FIRST_CHAIN_ID = 31_001;
const FIRST_LZ_EID = 30_001;
/** The core bridge's message fee on the devnet: non-zero, so fee handling is exercised. */
const WORMHOLE_MESSAGE_FEE = 1_000n;

export interface DevnetOptions {
  /** How many chains, 1 to MAX_DEVNET_CHAINS. */
  readonly chains: number;
  /** Seconds between blocks once deployed; absent = a block per transaction. */
  readonly blockTime?: number;
  /** Chain n listens on basePort + n; absent = free ports chosen by the OS. */
  readonly basePort?: number;
  /** Progress lines for a person watching. */
  readonly log?: (line: string) => void;
}

export interface Devnet {
  readonly manifest: Manifest;
  readonly anvils: readonly Anvil[];
  /** Stops every anvil of this devnet by its PID; safe to call twice. */
  stop(): Promise<void>;
}

export function devnetChainIds(index: number): { key: string; chainId: number; lzEid: number; wormholeChainId: number } {
  const key = KEYS[index];
  const wormholeChainId = WORMHOLE_CHAIN_IDS[index];
  if (key === undefined || wormholeChainId === undefined) throw new RelayerError(`a devnet has at most ${MAX_DEVNET_CHAINS} chains`);
  return { key, chainId: FIRST_CHAIN_ID + index, lzEid: FIRST_LZ_EID + index, wormholeChainId };
}

async function startChains(options: DevnetOptions): Promise<Anvil[]> {
  const started = await Promise.allSettled(
    Array.from({ length: options.chains }, (_, index) =>
      startAnvil({ chainId: devnetChainIds(index).chainId, ...(options.basePort === undefined ? {} : { port: options.basePort + index }) }),
    ),
  );
  const anvils = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failure = started.find((result) => result.status === 'rejected');
  if (failure) {
    await Promise.all(anvils.map((anvil) => anvil.stop()));
    throw failure.reason;
  }
  return anvils;
}

/** Deploys everything one chain needs that does not depend on the other chains. */
async function deployChain(index: number, anvil: Anvil): Promise<ManifestChain> {
  const ids = devnetChainIds(index);
  const endpoint = { chainId: anvil.chainId, rpcUrl: anvil.rpcUrl, name: ids.key };
  const deployer = new Signer(endpoint, devnetAccount(devnetRoles.deployer));
  const relayer = devnetAccount(devnetRoles.relayer).address;
  const lz = await deployLayerZero({ deployer, relayer, dvnSigner: devnetAccount(devnetRoles.dvnSigner).address, eid: ids.lzEid });
  const wormholeCore = await installWormholeCore({ signer: deployer, wormholeChainId: ids.wormholeChainId, messageFee: WORMHOLE_MESSAGE_FEE });
  const messageProbe = await deployer.deploy({ name: 'MessageProbe', abi: messageProbeAbi, bytecode: messageProbeBytecode, args: [lz.endpoint, wormholeCore, relayer] });
  const guardian = devnetAccount(devnetRoles.guardian).address;
  const protocol = await deployProtocol({ deployer, relayer, guardian, lzEndpoint: lz.endpoint, wormholeCore });
  return {
    ...ids,
    rpcUrl: anvil.rpcUrl,
    lzDvnVid: lz.dvnVid,
    contracts: {
      lzEndpoint: lz.endpoint,
      lzEndpointView: lz.endpointView,
      lzSendUln302: lz.sendUln,
      lzReceiveUln302: lz.receiveUln,
      lzExecutor: lz.executor,
      lzDvn: lz.dvn,
      lzPriceFeed: lz.priceFeed,
      wormholeCore,
      messageProbe,
      collateralToken: protocol.collateralToken,
      marginEngine: protocol.marginEngine,
      vault: protocol.vault,
    },
    markets: [...protocol.markets],
  };
}

/** Opens every ordered pair of chains: LayerZero paths, probe and vault peers, Wormhole emitters. */
async function wireChain(chain: ManifestChain, all: readonly ManifestChain[]): Promise<void> {
  const remotes = all.filter((other) => other.key !== chain.key);
  const endpoint = { chainId: chain.chainId, rpcUrl: chain.rpcUrl, name: chain.key };
  const deployer = new Signer(endpoint, devnetAccount(devnetRoles.deployer));
  const c = chain.contracts;
  await wireLayerZero({
    deployer,
    local: { endpoint: c.lzEndpoint, sendUln: c.lzSendUln302, receiveUln: c.lzReceiveUln302, priceFeed: c.lzPriceFeed, executor: c.lzExecutor, dvn: c.lzDvn },
    remoteEids: remotes.map((remote) => remote.lzEid),
  });
  const owner = new Signer(endpoint, devnetAccount(devnetRoles.relayer));
  for (const remote of remotes) {
    const peer = pad(remote.contracts.messageProbe, { size: 32 });
    await owner.write({ address: c.messageProbe, abi: messageProbeAbi, functionName: 'setPeer', args: [remote.lzEid, peer], label: 'MessageProbe' });
    await owner.write({ address: c.messageProbe, abi: messageProbeAbi, functionName: 'setWormholeEmitter', args: [remote.wormholeChainId, peer], label: 'MessageProbe' });
  }
  await wireProtocol({ deployer, vault: c.vault, remotes: remotes.map((remote) => ({ ...remote, vault: remote.contracts.vault })) });
}

/**
 * Starts N anvil chains and deploys on each the real LayerZero V2 production stack and the real
 * Wormhole core bridge, wired for every ordered pair of chains, plus the message probe. Any
 * failure stops every chain it started before it throws.
 */
export async function startDevnet(options: DevnetOptions): Promise<Devnet> {
  if (!Number.isInteger(options.chains) || options.chains < 1 || options.chains > MAX_DEVNET_CHAINS) {
    throw new RelayerError(`--chains must be an integer from 1 to ${MAX_DEVNET_CHAINS}, got ${options.chains}`);
  }
  const log = options.log ?? (() => undefined);
  const anvils = await startChains(options);
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopped ??= Promise.all(anvils.map((anvil) => anvil.stop())).then(() => undefined));
  try {
    log(`started ${anvils.length} anvil chains: ${anvils.map((a) => `${a.chainId}@${a.port} (pid ${a.pid})`).join(', ')}`);
    const chains = await Promise.all(anvils.map((anvil, index) => deployChain(index, anvil)));
    log('deployed LayerZero V2 (EndpointV2, SendUln302, ReceiveUln302, DVN, Executor, PriceFeed), Wormhole core, probes and the protocol (token, feeds, margin engine, vault)');
    await Promise.all(chains.map((chain) => wireChain(chain, chains)));
    log(`wired ${chains.length * (chains.length - 1)} ordered chain pairs on both transports`);
    if (options.blockTime !== undefined) {
      // Deployed with a block per transaction (fast); from now on blocks come on a timer.
      await Promise.all(anvils.map((anvil) => anvilControl({ chainId: anvil.chainId, rpcUrl: anvil.rpcUrl }).setIntervalMining({ interval: options.blockTime ?? 0 })));
    }
    return { manifest: { chains }, anvils, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

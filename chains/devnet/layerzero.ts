import type { Address } from 'viem';
import { dvnAbi, endpointAbi, endpointViewAbi, executorAbi, priceFeedAbi, receiveUlnAbi, sendUlnAbi } from '../messaging/layerzero/abi.js';
import { layerZeroArtifact, type LayerZeroContract } from '../messaging/layerzero/artifacts.js';
import type { Signer } from '../signer.js';

/** The LayerZero V2 production stack on one chain. */
export interface LayerZeroDeployment {
  readonly eid: number;
  /** The DVN's verifier id, part of every hash its signers sign. */
  readonly dvnVid: number;
  readonly endpoint: Address;
  readonly endpointView: Address;
  readonly sendUln: Address;
  readonly receiveUln: Address;
  readonly priceFeed: Address;
  readonly executor: Address;
  readonly executorFeeLib: Address;
  readonly dvn: Address;
  readonly dvnFeeLib: Address;
}

/** Devnet prices: remote gas at 1 gwei and a 1:1 native price, so quotes are real but small. */
const PRICE_RATIO_DENOMINATOR = 10n ** 20n;
const REMOTE_GAS_PRICE = 1_000_000_000n;
const NATIVE_DECIMALS_RATE = 10n ** 18n;
/** How many block confirmations the ULNs ask for; the devnet DVN verifies with exactly this. */
export const LZ_CONFIRMATIONS = 1n;

const sorted = (addresses: Address[]): Address[] =>
  [...addresses].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));

async function deployBare(deployer: Signer, name: LayerZeroContract, args: readonly unknown[] = []): Promise<Address> {
  const { abi, bytecode } = layerZeroArtifact(name);
  return deployer.deploy({ name, abi, bytecode, args });
}

/**
 * Deploys EndpointV2, SendUln302, ReceiveUln302, PriceFeed, Executor and a DVN with their fee
 * libraries, as on a live network. `relayer` becomes executor and DVN admin; `dvnSigner` the
 * DVN's only signer (quorum 1). Wiring to remote chains is `wireLayerZero`.
 */
export async function deployLayerZero(params: {
  deployer: Signer;
  relayer: Address;
  dvnSigner: Address;
  eid: number;
}): Promise<LayerZeroDeployment> {
  const { deployer, relayer, dvnSigner, eid } = params;
  const owner = deployer.address;
  const endpoint = await deployBare(deployer, 'EndpointV2', [eid, owner]);
  const endpointView = await deployBare(deployer, 'EndpointV2View');
  await deployer.write({ address: endpointView, abi: endpointViewAbi, functionName: 'initialize', args: [endpoint], label: 'EndpointV2View' });
  // No treasury: the treasury fee is 0 and the fee is what the workers charge.
  const sendUln = await deployBare(deployer, 'SendUln302', [endpoint, 0n, 0n]);
  const receiveUln = await deployBare(deployer, 'ReceiveUln302', [endpoint]);
  // Deployed bare (no proxy): `initialize` is allowed while the EIP-1967 admin slot is empty.
  const priceFeed = await deployBare(deployer, 'PriceFeed');
  await deployer.write({ address: priceFeed, abi: priceFeedAbi, functionName: 'initialize', args: [owner], label: 'PriceFeed' });
  const executor = await deployBare(deployer, 'Executor');
  await deployer.write({
    address: executor,
    abi: executorAbi,
    functionName: 'initialize',
    args: [endpoint, '0x0000000000000000000000000000000000000000', [sendUln], priceFeed, owner, sorted([owner, relayer])],
    label: 'Executor',
  });
  const executorFeeLib = await deployBare(deployer, 'ExecutorFeeLib', [eid, NATIVE_DECIMALS_RATE]);
  await deployer.write({ address: executor, abi: executorAbi, functionName: 'setWorkerFeeLib', args: [executorFeeLib], label: 'Executor' });
  const dvnVid = eid % 30_000;
  const dvn = await deployBare(deployer, 'DVN', [eid, dvnVid, sorted([sendUln, receiveUln]), priceFeed, [dvnSigner], 1n, sorted([owner, relayer])]);
  const dvnFeeLib = await deployBare(deployer, 'DVNFeeLib', [eid, NATIVE_DECIMALS_RATE]);
  await deployer.write({ address: dvn, abi: dvnAbi, functionName: 'setWorkerFeeLib', args: [dvnFeeLib], label: 'DVN' });
  await deployer.write({ address: endpoint, abi: endpointAbi, functionName: 'registerLibrary', args: [sendUln], label: 'EndpointV2' });
  await deployer.write({ address: endpoint, abi: endpointAbi, functionName: 'registerLibrary', args: [receiveUln], label: 'EndpointV2' });
  return { eid, dvnVid, endpoint, endpointView, sendUln, receiveUln, priceFeed, executor, executorFeeLib, dvn, dvnFeeLib };
}

/**
 * Opens the paths from this chain to each remote eid and back: prices, worker destination
 * configs, default ULN and executor configs, then the default libraries (the ULN configs come
 * first, or the endpoint refuses the eid as unsupported).
 */
export async function wireLayerZero(params: {
  deployer: Signer;
  local: Pick<LayerZeroDeployment, 'endpoint' | 'sendUln' | 'receiveUln' | 'priceFeed' | 'executor' | 'dvn'>;
  remoteEids: readonly number[];
}): Promise<void> {
  const { deployer, local, remoteEids } = params;
  if (remoteEids.length === 0) return;
  const ulnConfig = {
    confirmations: LZ_CONFIRMATIONS,
    requiredDVNCount: 1,
    optionalDVNCount: 0,
    optionalDVNThreshold: 0,
    requiredDVNs: [local.dvn],
    optionalDVNs: [],
  } as const;
  await deployer.write({
    address: local.priceFeed,
    abi: priceFeedAbi,
    functionName: 'setPrice',
    // The price feed keys remote prices by eid modulo 30000.
    args: [remoteEids.map((eid) => ({ eid: eid % 30_000, price: { priceRatio: PRICE_RATIO_DENOMINATOR, gasPriceInUnit: REMOTE_GAS_PRICE, gasPerByte: 16 } }))],
    label: 'PriceFeed',
  });
  await deployer.write({
    address: local.executor,
    abi: executorAbi,
    functionName: 'setDstConfig',
    args: [remoteEids.map((dstEid) => ({ dstEid, lzReceiveBaseGas: 5_000n, lzComposeBaseGas: 0n, multiplierBps: 10_000, floorMarginUSD: 0n, nativeCap: 10n ** 18n }))],
    label: 'Executor',
  });
  await deployer.write({
    address: local.dvn,
    abi: dvnAbi,
    functionName: 'setDstConfig',
    args: [remoteEids.map((dstEid) => ({ dstEid, gas: 100_000n, multiplierBps: 10_000, floorMarginUSD: 0n }))],
    label: 'DVN',
  });
  await deployer.write({
    address: local.sendUln,
    abi: sendUlnAbi,
    functionName: 'setDefaultUlnConfigs',
    args: [remoteEids.map((eid) => ({ eid, config: ulnConfig }))],
    label: 'SendUln302',
  });
  await deployer.write({
    address: local.sendUln,
    abi: sendUlnAbi,
    functionName: 'setDefaultExecutorConfigs',
    args: [remoteEids.map((eid) => ({ eid, config: { maxMessageSize: 10_000, executor: local.executor } }))],
    label: 'SendUln302',
  });
  await deployer.write({
    address: local.receiveUln,
    abi: receiveUlnAbi,
    functionName: 'setDefaultUlnConfigs',
    args: [remoteEids.map((eid) => ({ eid, config: ulnConfig }))],
    label: 'ReceiveUln302',
  });
  for (const eid of remoteEids) {
    await deployer.write({ address: local.endpoint, abi: endpointAbi, functionName: 'setDefaultSendLibrary', args: [eid, local.sendUln], label: 'EndpointV2' });
    await deployer.write({ address: local.endpoint, abi: endpointAbi, functionName: 'setDefaultReceiveLibrary', args: [eid, local.receiveUln, 0n], label: 'EndpointV2' });
  }
}

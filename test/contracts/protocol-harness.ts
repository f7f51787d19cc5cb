/**
 * A 3-chain devnet with the protocol, and what the vault tests do on it: read the contracts,
 * start and deliver legs through the node's transports, and play a forger (VAAs signed with any
 * key, `lzReceive` called as the impersonated endpoint).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keccak256, pad, parseEther, parseEventLogs, toHex, type Address, type Hash, type Hex, type JsonRpcAccount } from 'viem';
import { expect } from 'vitest';
import { collateralTokenAbi } from '../../chains/contracts/out/CollateralToken.js';
import { marginEngineAbi } from '../../chains/contracts/out/MarginEngine.js';
import { anvilControl } from '../../chains/devnet/control.js';
import { startDevnet, type Devnet } from '../../chains/devnet/devnet.js';
import { devnetAccount, devnetRoles } from '../../chains/devnet/keys.js';
import { parseManifest, type Manifest, type ManifestChain } from '../../chains/devnet/manifest.js';
import { seedAccounts, type SeededAccount, type SeedFile } from '../../chains/devnet/seed.js';
import { devnetTransports, type DevnetTransports } from '../../chains/devnet/transports.js';
import type { OutboundMessage, Transport } from '../../chains/messaging/transport.js';
import { decodeMessagesPublished, type WormholeMessage } from '../../chains/messaging/wormhole/message.js';
import { DevnetGuardianVaaSource } from '../../chains/messaging/wormhole/vaa-source.js';
import { vaultCallAbi } from '../../chains/protocol/abi.js';
import { sendLeg, type Leg } from '../../chains/protocol/legs.js';
import { marketId } from '../../chains/protocol/markets.js';
import { encodeLegPayload, LEG_KIND, type LegPayload } from '../../chains/protocol/payload.js';
import { usd } from '../../chains/protocol/units.js';
import { Signer } from '../../chains/signer.js';
import { expectLogsRebuildViews, logsOf } from './support.js';

export const ETH = marketId('ETH-USD');
export const BTC = marketId('BTC-USD');
/** Vault.LegStatus. */
export const STATUS = { none: 0, sent: 1, refunded: 2, executed: 3, canceled: 4 } as const;
/** How long the tests' legs stay executable. */
const LEG_TTL = 3_600n;
const ZERO_WORD: Hex = `0x${'0'.repeat(64)}`;

export const traderAddress = (n: number): Address => devnetAccount(devnetRoles.firstTrader + n).address;

export class ProtocolHarness {
  private legCounter = 0;
  private lzNonce = 1_000n;

  private constructor(
    readonly devnet: Devnet,
    readonly manifest: Manifest,
    readonly transports: DevnetTransports,
    readonly seedDir: string,
  ) {}

  /** Boots the devnet (stopped by `stop`, which the test file's afterAll must call). */
  static async start(): Promise<ProtocolHarness> {
    const devnet = await startDevnet({ chains: 3 });
    try {
      const manifest = parseManifest(devnet.manifest);
      return new ProtocolHarness(devnet, manifest, devnetTransports({ manifest }), await mkdtemp(join(tmpdir(), 'seed-')));
    } catch (error) {
      await devnet.stop();
      throw error;
    }
  }

  async stop(): Promise<void> {
    await this.devnet.stop();
    await rm(this.seedDir, { recursive: true, force: true });
  }

  get alpha(): ManifestChain {
    return this.chain('alpha');
  }
  get beta(): ManifestChain {
    return this.chain('beta');
  }
  get gamma(): ManifestChain {
    return this.chain('gamma');
  }

  chain(key: string): ManifestChain {
    const found = this.manifest.chains.find((chain) => chain.key === key);
    if (!found) throw new Error(`no chain ${key}`);
    return found;
  }

  /** Writes `content` as a JSON file in a temporary directory; returns its path. */
  async seedFile(name: string, content: unknown): Promise<string> {
    const file = join(this.seedDir, name);
    await writeFile(file, JSON.stringify(content));
    return file;
  }

  async seed(seed: SeedFile): Promise<SeededAccount[]> {
    return seedAccounts({ manifest: this.manifest, file: await this.seedFile('seed.json', seed) });
  }

  // ---------------------------------------------------------------- signers

  endpointOf(chain: ManifestChain) {
    return { chainId: chain.chainId, rpcUrl: chain.rpcUrl, name: chain.key };
  }

  relayerOn(chain: ManifestChain): Signer {
    const signer = this.transports.relayers.get(chain.key);
    if (!signer) throw new Error(`no relayer on ${chain.key}`);
    return signer;
  }

  deployerOn(chain: ManifestChain): Signer {
    return new Signer(this.endpointOf(chain), devnetAccount(devnetRoles.deployer));
  }

  strangerOn(chain: ManifestChain): Signer {
    return new Signer(this.endpointOf(chain), devnetAccount(7));
  }

  /** `chain`'s LayerZero endpoint, impersonated: it calls a vault's lzReceive as a delivered packet would. */
  async asEndpoint(chain: ManifestChain): Promise<Signer> {
    const control = anvilControl(this.endpointOf(chain));
    await control.impersonateAccount({ address: chain.contracts.lzEndpoint });
    await control.setBalance({ address: chain.contracts.lzEndpoint, value: parseEther('1') });
    const account: JsonRpcAccount = { address: chain.contracts.lzEndpoint, type: 'json-rpc' };
    return new Signer(this.endpointOf(chain), account);
  }

  // ---------------------------------------------------------------- reads

  feedOf(chain: ManifestChain, market: Hex): Address {
    const found = chain.markets.find((m) => m.marketId === market);
    if (!found) throw new Error(`no market ${market} on ${chain.key}`);
    return found.priceFeed;
  }

  account(chain: ManifestChain, account: Address) {
    return this.relayerOn(chain).public.readContract({ address: chain.contracts.marginEngine, abi: marginEngineAbi, functionName: 'accountOf', args: [account] });
  }

  maxAbsorb(chain: ManifestChain, account: Address, market: Hex) {
    return this.relayerOn(chain).public.readContract({ address: chain.contracts.marginEngine, abi: marginEngineAbi, functionName: 'maxAbsorbSize', args: [account, market] });
  }

  async position(chain: ManifestChain, account: Address, market: Hex) {
    const [size, entryPrice] = await this.relayerOn(chain).public.readContract({
      address: chain.contracts.marginEngine,
      abi: marginEngineAbi,
      functionName: 'positionOf',
      args: [account, market],
    });
    return { size, entryPrice };
  }

  supplyOf(chain: ManifestChain) {
    return this.relayerOn(chain).public.readContract({ address: chain.contracts.collateralToken, abi: collateralTokenAbi, functionName: 'totalSupply' });
  }

  async totalSupply(): Promise<bigint> {
    return (await Promise.all(this.manifest.chains.map((chain) => this.supplyOf(chain)))).reduce((a, b) => a + b, 0n);
  }

  reserveOf(chain: ManifestChain) {
    return this.relayerOn(chain).public.readContract({ address: chain.contracts.vault, abi: vaultCallAbi, functionName: 'reserve' });
  }

  async inboundStatus(chain: ManifestChain, legId: Hash): Promise<number> {
    return (await this.relayerOn(chain).public.readContract({ address: chain.contracts.vault, abi: vaultCallAbi, functionName: 'inboundLeg', args: [legId] })).status;
  }

  async outboundStatus(chain: ManifestChain, legId: Hash): Promise<number> {
    return (await this.relayerOn(chain).public.readContract({ address: chain.contracts.vault, abi: vaultCallAbi, functionName: 'outboundLeg', args: [legId] })).status;
  }

  async chainTime(chain: ManifestChain): Promise<bigint> {
    return (await this.relayerOn(chain).public.getBlock()).timestamp;
  }

  /** Everything a refused delivery must leave alone on `chain` for `account`. */
  async snapshot(chain: ManifestChain, account: Address) {
    return {
      supply: await this.supplyOf(chain),
      reserve: await this.reserveOf(chain),
      account: await this.account(chain, account),
      backstop: await this.account(chain, chain.contracts.vault),
    };
  }

  // ---------------------------------------------------------------- legs

  newLegId(): Hash {
    this.legCounter += 1;
    return keccak256(toHex(`vault test leg ${this.legCounter}`));
  }

  async deadline(chain: ManifestChain, ttl = LEG_TTL): Promise<bigint> {
    return (await this.chainTime(chain)) + ttl;
  }

  send(params: { transport: Transport; from: ManifestChain; to: ManifestChain; leg: Leg }): Promise<OutboundMessage> {
    return sendLeg({ ...params, signer: this.relayerOn(params.from) });
  }

  async legEvents(chain: ManifestChain, txHash: Hash | undefined) {
    if (!txHash) throw new Error('no transaction: the message was delivered before');
    const receipt = await this.relayerOn(chain).public.getTransactionReceipt({ hash: txHash });
    return parseEventLogs({ abi: vaultCallAbi, logs: receipt.logs });
  }

  /** A leg payload from the genuine vault's point of view, with any field overridden. */
  payloadFor(overrides: Partial<LegPayload> & Pick<LegPayload, 'legId' | 'account' | 'deadline'>): Hex {
    return encodeLegPayload({ version: 1, kind: LEG_KIND.collateral, amount: usd('1'), marketId: ZERO_WORD, size: 0n, ...overrides });
  }

  // ---------------------------------------------------------------- forging

  /** The Wormhole message a vault's send published, as the guardian observes it. */
  async publishedOf(chain: ManifestChain, message: OutboundMessage): Promise<WormholeMessage & { timestamp: number }> {
    const client = this.relayerOn(chain).public;
    const receipt = await client.getTransactionReceipt({ hash: message.txHash });
    const [published] = decodeMessagesPublished({ core: chain.contracts.wormholeCore, emitterChain: chain.wormholeChainId, logs: receipt.logs });
    if (!published) throw new Error('nothing published');
    const block = await client.getBlock({ blockHash: receipt.blockHash });
    return { ...published, timestamp: Number(block.timestamp) };
  }

  /** A VAA signed by the devnet guardian (or `guardianKeys`) for whatever message we describe. */
  forgeVaa(message: Partial<WormholeMessage> & Pick<WormholeMessage, 'emitterChain' | 'emitter' | 'payload' | 'nonce'>, guardianKeys?: Hex[]): Promise<Hex> {
    const source = new DevnetGuardianVaaSource(guardianKeys ? { guardianKeys } : {});
    return source.signedVaa({ sequence: 1_000n, consistencyLevel: 1, txHash: ZERO_WORD, blockNumber: 0n, timestamp: 1, ...message });
  }

  receiveVaa(chain: ManifestChain, vaa: Hex) {
    return this.relayerOn(chain).write({ address: chain.contracts.vault, abi: vaultCallAbi, functionName: 'receiveWormholeMessage', args: [vaa], label: 'Vault' });
  }

  /** `to`'s vault receives `payload` as if from `from` (the peer, or `sender`), under a fresh GUID. */
  async lzReceiveFrom(params: { to: ManifestChain; from: ManifestChain; sender?: Address; payload: Hex }) {
    this.lzNonce += 1n;
    const endpoint = await this.asEndpoint(params.to);
    return endpoint.write({
      address: params.to.contracts.vault,
      abi: vaultCallAbi,
      functionName: 'lzReceive',
      args: [
        { srcEid: params.from.lzEid, sender: pad(params.sender ?? params.from.contracts.vault, { size: 32 }), nonce: this.lzNonce },
        keccak256(toHex(`guid ${this.lzNonce}`)),
        params.payload,
        '0x0000000000000000000000000000000000000000',
        '0x',
      ],
      label: 'Vault',
    });
  }

  // ---------------------------------------------------------------- whole-devnet checks

  /** Sent legs whose amount was neither received at their destination nor refunded at their source. */
  async inFlightAmount(): Promise<bigint> {
    const sent = new Map<Hash, bigint>();
    const settled = new Set<Hash>();
    for (const chain of this.manifest.chains) {
      const events = parseEventLogs({ abi: vaultCallAbi, logs: await logsOf(this.relayerOn(chain), [chain.contracts.vault]) });
      for (const event of events) {
        if (event.eventName === 'LegSent') sent.set(event.args.legId, event.args.amount);
        if (event.eventName === 'LegReceived' || event.eventName === 'LegRefunded') settled.add(event.args.legId);
      }
    }
    return [...sent].filter(([legId]) => !settled.has(legId)).reduce((sum, [, amount]) => sum + amount, 0n);
  }

  /** Supply over all chains is what was issued, less what is in flight. */
  async expectSupplyConserved(): Promise<void> {
    let issued = 0n;
    for (const chain of this.manifest.chains) {
      const logs = await logsOf(this.relayerOn(chain), [chain.contracts.vault]);
      issued += parseEventLogs({ abi: vaultCallAbi, eventName: 'Issued', logs }).reduce((sum, e) => sum + e.args.amount, 0n);
    }
    expect(await this.totalSupply()).toBe(issued - (await this.inFlightAmount()));
  }

  /** Every account of every chain's engine, rebuilt from logs, equals the engine's views. */
  async expectLogsRebuildEveryChain(): Promise<void> {
    let compared = 0;
    for (const chain of this.manifest.chains) {
      compared += await expectLogsRebuildViews({ signer: this.relayerOn(chain), engine: chain.contracts.marginEngine, feeds: chain.markets.map((m) => m.priceFeed) });
    }
    expect(compared).toBeGreaterThan(0);
  }
}

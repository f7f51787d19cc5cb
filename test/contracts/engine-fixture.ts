/**
 * The margin engine, its ETH and BTC price feeds and the collateral token on one real anvil
 * chain, with plain accounts in the vault and backstop roles so that every rule is reached
 * directly, and the reads and writes the engine tests share.
 */
import { decodeErrorResult, getAddress, parseEther, type Address, type Hash, type Hex, type TransactionReceipt } from 'viem';
import { collateralTokenAbi, collateralTokenBytecode } from '../../chains/contracts/out/CollateralToken.js';
import { marginEngineAbi, marginEngineBytecode } from '../../chains/contracts/out/MarginEngine.js';
import { marketPriceFeedAbi, marketPriceFeedBytecode } from '../../chains/contracts/out/MarketPriceFeed.js';
import { startAnvil, type Anvil } from '../../chains/devnet/anvil.js';
import { anvilControl } from '../../chains/devnet/control.js';
import { devnetAccount, devnetRoles } from '../../chains/devnet/keys.js';
import { DEVNET_MARKETS, type MarketSpec } from '../../chains/devnet/protocol.js';
import { marketId } from '../../chains/protocol/markets.js';
import { pushPrice } from '../../chains/protocol/price-feed.js';
import { fraction, price, size, usd } from '../../chains/protocol/units.js';
import { Signer } from '../../chains/signer.js';

export const ETH = marketId('ETH-USD');
export const BTC = marketId('BTC-USD');
export const [ETH_SPEC, BTC_SPEC] = DEVNET_MARKETS as [MarketSpec, MarketSpec];
export const LIQUIDATOR_SHARE = fraction('0.5');
/** The engine's HEALTH_ROUNDING_MARGIN plus the roundings it covers: how far past the level a capped action may land. */
export const RESTORE_TOLERANCE = 10n;
/** Traders funded with gas: devnetRoles.firstTrader + 0 .. TRADERS - 1. */
const TRADERS = 12;

/**
 * A devnet market's config, by default without its liquidation buffer: each rule is checked
 * against maintenance itself, and the buffer (test/contracts/liquidation-buffer.test.ts) on its own.
 */
export const marketArgs = (feed: Address, spec: MarketSpec, liquidationBuffer = 0n) => ({
  feed,
  maxPriceAge: spec.maxPriceAge,
  maintenanceMarginFraction: spec.maintenanceMarginFraction,
  initialMarginFraction: spec.initialMarginFraction,
  liquidationPenalty: spec.liquidationPenalty,
  liquidationBuffer,
  ammDepth: spec.ammDepth,
});

export type EngineFixture = Awaited<ReturnType<typeof startEngineFixture>>;

/** Boots anvil and deploys; the test file's afterAll must call `stop`. */
export async function startEngineFixture(params: { chainId?: number } = {}) {
  const anvil: Anvil = await startAnvil({ chainId: params.chainId ?? 31_337 });
  const endpoint = { chainId: anvil.chainId, rpcUrl: anvil.rpcUrl, name: 'engine-test' };
  const signerFor = (index: number) => new Signer(endpoint, devnetAccount(index));
  const trader = (n: number) => signerFor(devnetRoles.firstTrader + n);
  const control = anvilControl(endpoint);
  const [deployer, vault, backstop, keeper, stranger] = [signerFor(devnetRoles.deployer), signerFor(3), signerFor(4), signerFor(5), signerFor(6)];
  /** Deploys and returns the checksummed address, as events carry it. */
  const deploy = async (...args: Parameters<Signer['deploy']>) => getAddress(await deployer.deploy(...args));
  try {
    // anvil funds the mnemonic's first ten accounts only; traders come after them.
    for (let n = 0; n < TRADERS; n += 1) await control.setBalance({ address: trader(n).address, value: parseEther('10') });
    const token = await deploy({ name: 'CollateralToken', abi: collateralTokenAbi, bytecode: collateralTokenBytecode, args: ['Test USD', 'tUSD'] });
    await deployer.write({ address: token, abi: collateralTokenAbi, functionName: 'setVault', args: [vault.address] });
    const feedArgs = (spec: MarketSpec) => [8, spec.description, spec.initialPrice, deployer.address];
    const ethFeed = await deploy({ name: 'feed', abi: marketPriceFeedAbi, bytecode: marketPriceFeedBytecode, args: feedArgs(ETH_SPEC) });
    const btcFeed = await deploy({ name: 'feed', abi: marketPriceFeedAbi, bytecode: marketPriceFeedBytecode, args: feedArgs(BTC_SPEC) });
    const engine = await deploy({ name: 'MarginEngine', abi: marginEngineAbi, bytecode: marginEngineBytecode, args: [token, deployer.address, LIQUIDATOR_SHARE] });
    await deployer.write({ address: engine, abi: marginEngineAbi, functionName: 'setVault', args: [vault.address] });
    await deployer.write({ address: engine, abi: marginEngineAbi, functionName: 'setBackstop', args: [backstop.address] });
    await deployer.write({ address: engine, abi: marginEngineAbi, functionName: 'listMarket', args: [ETH, marketArgs(ethFeed, ETH_SPEC)] });
    await deployer.write({ address: engine, abi: marginEngineAbi, functionName: 'listMarket', args: [BTC, marketArgs(btcFeed, BTC_SPEC)] });

    const contract = { address: engine, abi: marginEngineAbi } as const;
    const read = {
      account: (account: Address) => deployer.public.readContract({ ...contract, functionName: 'accountOf', args: [account] }),
      collateral: (account: Address) => deployer.public.readContract({ ...contract, functionName: 'collateralOf', args: [account] }),
      position: async (account: Address, market: Hex) => {
        const [positionSize, entryPrice] = await deployer.public.readContract({ ...contract, functionName: 'positionOf', args: [account, market] });
        return { size: positionSize, entryPrice };
      },
      balance: (account: Address) => deployer.public.readContract({ address: token, abi: collateralTokenAbi, functionName: 'balanceOf', args: [account] }),
      insurance: () => deployer.public.readContract({ ...contract, functionName: 'insuranceFund' }),
      maxLiquidation: (account: Address, market: Hex) => deployer.public.readContract({ ...contract, functionName: 'maxLiquidationSize', args: [account, market] }),
      maxAbsorb: (account: Address, market: Hex) => deployer.public.readContract({ ...contract, functionName: 'maxAbsorbSize', args: [account, market] }),
      auction: (account: Address, market: Hex) => deployer.public.readContract({ ...contract, functionName: 'auctionOf', args: [account, market] }),
      limits: (market: Hex) => deployer.public.readContract({ ...contract, functionName: 'blockLimits', args: [market] }),
    };

    const setPrice = (feed: Address, value: bigint) => pushPrice({ signer: deployer, feed, price: value });

    /** Gives the trader `amount` tokens (the vault mints) and deposits them into its margin. */
    const fund = async (account: Signer, amount: bigint): Promise<void> => {
      await vault.write({ address: token, abi: collateralTokenAbi, functionName: 'mint', args: [account.address, amount] });
      await account.write({ address: token, abi: collateralTokenAbi, functionName: 'approve', args: [engine, amount] });
      await account.write({ ...contract, functionName: 'deposit', args: [account.address, amount] });
    };

    const label = 'MarginEngine';
    const tradeAs = (account: Signer, market: Hex, sizeDelta: bigint) => account.write({ ...contract, functionName: 'trade', args: [market, sizeDelta], label });
    const liquidateAs = (account: Signer, target: Address, market: Hex, amount: bigint) =>
      account.write({ ...contract, functionName: 'liquidate', args: [target, market, amount], label });
    const absorbAs = (account: Signer, target: Address, market: Hex, amount: bigint) => account.write({ ...contract, functionName: 'absorb', args: [target, market, amount], label });

    /** A new trader with `deposit` collateral and `positionSize` opened in `market` at the current price. */
    const openAccount = async (n: number, deposit: bigint, market: Hex, positionSize: bigint): Promise<Signer> => {
      const account = trader(n);
      await fund(account, deposit);
      await tradeAs(account, market, positionSize);
      return account;
    };

    /**
     * A trader long 3 ETH opened at 3000 with 1000 of collateral (IM 900), then ETH marked at
     * `mark`; at 2800: E = 1000 - 3 x 200 = 400 < MM = 420 (a deficit of 20) < IM = 840.
     */
    const underwaterLong = async (n: number, mark = price('2800')): Promise<Address> => {
      await setPrice(ethFeed, price('3000'));
      const account = await openAccount(n, usd('1000'), ETH, size('3'));
      await setPrice(ethFeed, mark);
      return account.address;
    };

    /** Mines the block at exactly `timestamp`, so that the next transaction's block follows it. */
    const mineAt = async (timestamp: bigint): Promise<void> => {
      await control.setNextBlockTimestamp({ timestamp });
      await control.mine({ blocks: 1 });
    };
    const blockTime = async (receipt: TransactionReceipt): Promise<bigint> => (await deployer.public.getBlock({ blockHash: receipt.blockHash })).timestamp;

    /**
     * Sends these transactions into one block (mining stopped, then one block mined) and returns
     * their receipts in order, each with the custom error it reverted with, if any.
     */
    const inOneBlock = async (sends: readonly (() => Promise<Hash>)[]): Promise<{ receipt: TransactionReceipt; error: string | undefined }[]> => {
      await control.setAutomine(false);
      const hashes: Hash[] = [];
      try {
        for (const send of sends) hashes.push(await send());
        await control.mine({ blocks: 1 });
      } finally {
        await control.setAutomine(true);
      }
      return Promise.all(
        hashes.map(async (hash) => {
          const receipt = await deployer.public.getTransactionReceipt({ hash });
          return { receipt, error: receipt.status === 'success' ? undefined : await revertErrorOf(hash) };
        }),
      );
    };

    /** The custom error name a mined transaction reverted with, from anvil's call trace. */
    const revertErrorOf = async (hash: Hash): Promise<string> => {
      const trace = (await deployer.public.request({ method: 'debug_traceTransaction', params: [hash, { tracer: 'callTracer' }] } as never)) as { output?: Hex };
      return decodeErrorResult({ abi: marginEngineAbi, data: trace.output ?? '0x' }).errorName;
    };

    /** Sends an engine call without waiting for it (for `inOneBlock`); gas is fixed so nothing is estimated. */
    const sendAs =
      (account: Signer, call: { functionName: string; args: readonly unknown[] }) =>
      (): Promise<Hash> =>
        account.wallet.writeContract({ ...contract, ...call, gas: 1_500_000n } as unknown as Parameters<typeof account.wallet.writeContract>[0]);

    return {
      anvil,
      control,
      deployer,
      vault,
      backstop,
      keeper,
      stranger,
      token,
      engine,
      ethFeed,
      btcFeed,
      trader,
      read,
      setPrice,
      fund,
      tradeAs,
      liquidateAs,
      absorbAs,
      openAccount,
      underwaterLong,
      mineAt,
      blockTime,
      inOneBlock,
      sendAs,
      stop: () => anvil.stop(),
    };
  } catch (error) {
    await anvil.stop();
    throw error;
  }
}

import { readFile } from 'node:fs/promises';
import { parseEther, parseUnits, type Address } from 'viem';
import { z } from 'zod';
import { ConfigError } from '../../relayer/errors.js';
import { parseWith } from '../../relayer/validation.js';
import { collateralTokenAbi } from '../contracts/out/CollateralToken.js';
import { marginEngineAbi } from '../contracts/out/MarginEngine.js';
import { vaultAbi } from '../contracts/out/Vault.js';
import { pushPrice } from '../protocol/price-feed.js';
import { COLLATERAL_DECIMALS, PRICE_DECIMALS, SIZE_DECIMALS } from '../protocol/units.js';
import { Signer } from '../signer.js';
import { anvilControl } from './control.js';
import { devnetAccount, devnetRoles } from './keys.js';
import type { Manifest, ManifestChain } from './manifest.js';

/** Native balance a seeded trader gets for gas when it has less (a devnet chain's ether is free). */
const TRADER_GAS_FUNDS = parseEther('10');

/** A decimal written as a JSON string (exact) or number, e.g. "12.5" or -3. */
const decimal = (what: string) =>
  z
    .union([z.string(), z.number()])
    .transform((value) => String(value))
    .pipe(z.string().regex(/^-?\d+(\.\d+)?$/, `must be a decimal ${what}, e.g. "12.5"`));

const seedSchema = z.object({
  /** Prices pushed on every chain before any account is seeded, by market symbol. */
  prices: z.record(z.string(), decimal('price in USD')).default({}),
  accounts: z
    .array(
      z.object({
        /** Devnet trader n: the mnemonic's account firstTrader + n (same address on every chain). */
        trader: z.number().int().min(0).max(989),
        chain: z.string(),
        /** USD deposited into the margin engine (issued to the trader first). */
        deposit: decimal('amount in USD'),
        /** Whether the trader lets the vault move its surplus to other chains. */
        crossChainConsent: z.boolean().default(false),
        /** Positions opened at the oracle price, in base units, signed (negative = short). */
        positions: z.array(z.object({ market: z.string(), size: decimal('size in base units') })).default([]),
      }),
    )
    .default([]),
});

export type SeedFile = z.input<typeof seedSchema>;

export interface SeededAccount {
  readonly chain: string;
  readonly trader: number;
  readonly address: Address;
  /** Collateral base units deposited. */
  readonly deposit: bigint;
  readonly crossChainConsent: boolean;
  /** Signed sizes (1e18 scale) by market symbol. */
  readonly positions: readonly { readonly market: string; readonly size: bigint }[];
}

interface SeedPlan {
  readonly prices: readonly { readonly chain: ManifestChain; readonly feed: Address; readonly price: bigint }[];
  readonly accounts: readonly (SeededAccount & { readonly target: ManifestChain; readonly markets: readonly { marketId: `0x${string}`; size: bigint }[] })[];
}

/** Checks the seed against the manifest (chains and markets exist) before anything is sent. */
function planSeed(seed: z.output<typeof seedSchema>, manifest: Manifest, source: string): SeedPlan {
  const chainByKey = new Map(manifest.chains.map((chain) => [chain.key, chain]));
  const known = (chain: ManifestChain) => chain.markets.map((market) => market.symbol).join(', ');
  const prices = Object.entries(seed.prices).flatMap(([symbol, value]) =>
    manifest.chains.map((chain) => {
      const market = chain.markets.find((m) => m.symbol === symbol);
      if (!market) throw new ConfigError(`${source}: prices.${symbol}: no such market on chain '${chain.key}' (markets: ${known(chain)})`);
      const price = parseUnits(value, PRICE_DECIMALS);
      if (price <= 0n) throw new ConfigError(`${source}: prices.${symbol}: must be positive, got ${value}`);
      return { chain, feed: market.priceFeed, price };
    }),
  );
  const accounts = seed.accounts.map((entry, index) => {
    const where = `${source}: accounts[${index}]`;
    const target = chainByKey.get(entry.chain);
    if (!target) throw new ConfigError(`${where}.chain: unknown chain '${entry.chain}' (chains: ${[...chainByKey.keys()].join(', ')})`);
    const deposit = parseUnits(entry.deposit, COLLATERAL_DECIMALS);
    if (deposit < 0n) throw new ConfigError(`${where}.deposit: must not be negative, got ${entry.deposit}`);
    const markets = entry.positions.map((position, p) => {
      const market = target.markets.find((m) => m.symbol === position.market);
      if (!market) throw new ConfigError(`${where}.positions[${p}].market: no market '${position.market}' on chain '${target.key}' (markets: ${known(target)})`);
      const size = parseUnits(position.size, SIZE_DECIMALS);
      if (size === 0n) throw new ConfigError(`${where}.positions[${p}].size: must not be zero`);
      return { marketId: market.marketId, size, symbol: market.symbol };
    });
    return {
      chain: target.key,
      trader: entry.trader,
      address: devnetAccount(devnetRoles.firstTrader + entry.trader).address,
      deposit,
      crossChainConsent: entry.crossChainConsent,
      positions: markets.map((m) => ({ market: m.symbol, size: m.size })),
      target,
      markets,
    };
  });
  return { prices, accounts };
}

async function seedAccount(account: SeedPlan['accounts'][number], owner: Signer): Promise<void> {
  const chain = account.target;
  const endpoint = { chainId: chain.chainId, rpcUrl: chain.rpcUrl, name: chain.key };
  const trader = new Signer(endpoint, devnetAccount(devnetRoles.firstTrader + account.trader));
  const { collateralToken, marginEngine, vault } = chain.contracts;
  // anvil funds the mnemonic's first ten accounts only; traders come after them.
  if ((await trader.public.getBalance({ address: trader.address })) < TRADER_GAS_FUNDS) {
    await anvilControl(endpoint).setBalance({ address: trader.address, value: TRADER_GAS_FUNDS });
  }
  if (account.deposit > 0n) {
    await owner.write({ address: vault, abi: vaultAbi, functionName: 'issue', args: [trader.address, account.deposit], label: 'Vault' });
    await trader.write({ address: collateralToken, abi: collateralTokenAbi, functionName: 'approve', args: [marginEngine, account.deposit], label: 'CollateralToken' });
    await trader.write({ address: marginEngine, abi: marginEngineAbi, functionName: 'deposit', args: [trader.address, account.deposit], label: 'MarginEngine' });
  }
  if (account.crossChainConsent) {
    await trader.write({ address: marginEngine, abi: marginEngineAbi, functionName: 'setCrossChainConsent', args: [true], label: 'MarginEngine' });
  }
  for (const position of account.markets) {
    await trader.write({ address: marginEngine, abi: marginEngineAbi, functionName: 'trade', args: [position.marketId, position.size], label: 'MarginEngine' });
  }
}

/**
 * Seeds devnet accounts from a JSON file: pushes the file's prices on every chain, then for each
 * account gives the trader gas money if it has none (anvil funds only the mnemonic's first ten
 * accounts), issues its deposit to it (the deployer owns the vaults), deposits it into the
 * margin engine, sets its cross-chain consent and opens its positions at the oracle price. The
 * whole file is checked against the manifest first (a bad one is a ConfigError naming the field,
 * and nothing is sent). Chains are seeded in parallel, the accounts of a chain in file order.
 *
 * ```json
 * {"prices": {"ETH-USD": "3000"},
 *  "accounts": [{"trader": 0, "chain": "alpha", "deposit": "10000", "crossChainConsent": true,
 *                "positions": [{"market": "ETH-USD", "size": "-2.5"}]}]}
 * ```
 */
export async function seedAccounts(params: { manifest: Manifest; file: string }): Promise<SeededAccount[]> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(params.file, 'utf8'));
  } catch (cause) {
    const reason = cause instanceof SyntaxError ? `is not JSON: ${cause.message}` : `cannot be read: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`;
    throw new ConfigError(`seed file ${params.file} ${reason}`, { cause });
  }
  const plan = planSeed(parseWith(seedSchema, json, params.file), params.manifest, params.file);
  await Promise.all(
    params.manifest.chains.map(async (chain) => {
      const owner = new Signer({ chainId: chain.chainId, rpcUrl: chain.rpcUrl, name: chain.key }, devnetAccount(devnetRoles.deployer));
      for (const price of plan.prices.filter((p) => p.chain.key === chain.key)) await pushPrice({ signer: owner, feed: price.feed, price: price.price });
      for (const account of plan.accounts.filter((a) => a.chain === chain.key)) await seedAccount(account, owner);
    }),
  );
  return plan.accounts.map(({ target: _target, markets: _markets, ...account }) => account);
}

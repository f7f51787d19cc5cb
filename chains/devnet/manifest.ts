import { writeFile, rename } from 'node:fs/promises';
import { getAddress, type Address, type Hex } from 'viem';
import { z } from 'zod';
import { parseWith, readJsonFile } from '../../relayer/validation.js';

const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 0x-prefixed 20-byte hex address')
  .transform((value) => getAddress(value) as Address);
const positiveInt = z.number().int().positive();

const manifestChainSchema = z.object({
  key: z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be lowercase letters, digits and dashes'),
  chainId: positiveInt,
  rpcUrl: z.url(),
  lzEid: z.number().int().min(30_000, 'must be 30000 or more (LayerZero V2 eids)'),
  wormholeChainId: positiveInt.max(65_535),
  /** The DVN's verifier id on this chain (signed into every verification). */
  lzDvnVid: positiveInt,
  contracts: z
    .object({
      lzEndpoint: address,
      lzEndpointView: address,
      lzSendUln302: address,
      lzReceiveUln302: address,
      lzExecutor: address,
      lzDvn: address,
      lzPriceFeed: address,
      wormholeCore: address,
      messageProbe: address,
      /** The protocol (DESIGN.md section 4): its stablecoin, margin engine and vault. */
      collateralToken: address,
      marginEngine: address,
      vault: address,
    })
    // Later parts of the protocol add their contracts here.
    .catchall(address),
  /** The margin engine's markets: symbol, bytes32 id and the price feed the engine reads. */
  markets: z
    .array(
      z.object({
        symbol: z.string().min(1),
        marketId: z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be a 0x-prefixed bytes32').transform((value) => value as Hex),
        priceFeed: address,
      }),
    )
    .default([]),
});

export const manifestSchema = z
  .object({ chains: z.array(manifestChainSchema).min(1, 'must list at least one chain') })
  .superRefine((manifest, ctx) => {
    for (const field of ['key', 'chainId', 'lzEid', 'wormholeChainId'] as const) {
      const seen = new Set<unknown>();
      manifest.chains.forEach((chain, index) => {
        if (seen.has(chain[field])) ctx.addIssue({ code: 'custom', path: ['chains', index, field], message: `duplicate ${field} ${String(chain[field])}` });
        seen.add(chain[field]);
      });
    }
  });

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestChain = Manifest['chains'][number];

/** Validates a manifest; a bad one is a ConfigError naming the first wrong field. */
export function parseManifest(value: unknown, source = 'manifest'): Manifest {
  return parseWith(manifestSchema, value, source);
}

export async function readManifest(file: string): Promise<Manifest> {
  return parseManifest(await readJsonFile(file, 'manifest'), file);
}

/** Writes atomically (temporary file, then rename): a reader never sees half a manifest. */
export async function writeManifest(file: string, manifest: Manifest): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(temporary, file);
}

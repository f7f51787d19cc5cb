/**
 * Reverts on the write path (chains/signer.ts `write()`), on a 3-chain devnet with the real
 * ledger. A refusal raised after the simulation passed (at gas estimation: an RPC whose
 * simulation answered from an older state) reads by name from the contract's full ABI plus the
 * shared error ABIs, never as `unknown error 0x…` from viem's cut-down request ABI; and each
 * call is simulated against the block it will land in, so a leg whose deadline passes between
 * `latest` and that block is refused by name, fails, and is refunded.
 */
import { isFinal } from '../../relayer/orchestrator/job-processor.js';
import { pad, type Hash } from 'viem';
import { generatePrivateKey } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anvilControl } from '../../chains/devnet/control.js';
import { devnetAccount } from '../../chains/devnet/keys.js';
import { wormholeReceiverAbi } from '../../chains/messaging/wormhole/abi.js';
import { vaultCallAbi } from '../../chains/protocol/abi.js';
import { usd } from '../../chains/protocol/units.js';
import { revertError, Signer } from '../../chains/signer.js';
import { getLeg, listLegEvents, registerChains, type LedgerHandle } from '../../db/index.js';
import { deliverLegStep } from '../../relayer/execution/deliver-leg.js';
import { devnetExecutionContext } from '../../relayer/execution/devnet-context.js';
import type { ExecutionContext } from '../../relayer/execution/execution-context.js';
import { sendLegStep } from '../../relayer/execution/send-leg.js';
import { reconcile } from '../../relayer/reconcile/reconcile.js';
import { ProtocolHarness, traderAddress } from '../contracts/protocol-harness.js';
import { collateralLeg, createPlan } from '../db/support/fixtures.js';
import { createMigratedLedger } from '../db/support/test-database.js';
import { RpcProxy } from '../../chains/devnet/rpc-proxy.js';

let h: ProtocolHarness;
let ledger: LedgerHandle;
let cleanupLedger: () => Promise<void>;
let context: ExecutionContext;
/** In front of alpha: answers every simulation (`eth_call`) with success, passes the rest on. */
let laggingRpc: RpcProxy;
let laggingUrl: string;
const account = traderAddress(0);

beforeAll(async () => {
  h = await ProtocolHarness.start();
  ({ ledger, cleanup: cleanupLedger } = await createMigratedLedger());
  await registerChains(ledger.db, h.manifest.chains.map((c) => ({ chainId: c.chainId, key: c.key, lzEid: c.lzEid, wormholeChainId: c.wormholeChainId, confirmations: 0 })));
  context = devnetExecutionContext({ manifest: h.manifest, transports: h.transports, ledger: ledger.db, actor: 'test-node' });
  await h.seed({
    accounts: [
      { trader: 0, chain: 'alpha', deposit: '1000' },
      { trader: 0, chain: 'beta', deposit: '5000', crossChainConsent: true },
    ],
  });
  laggingRpc = new RpcProxy(h.alpha.rpcUrl, (request) => (request.method === 'eth_call' ? { status: 200, body: { result: '0x' } } : 'forward'));
  laggingUrl = await laggingRpc.start();
});

afterAll(async () => {
  await laggingRpc?.stop();
  await cleanupLedger?.();
  await h?.stop();
});

/** A stranger (not the vaults' owner or relayer) on alpha, through the lagging RPC. */
const strangerBehindLaggingRpc = () => new Signer({ chainId: h.alpha.chainId, rpcUrl: laggingUrl, name: 'alpha' }, devnetAccount(7));

describe('Signer.write', () => {
  it('names a revert raised at gas estimation from the contract’s full ABI', async () => {
    const stranger = strangerBehindLaggingRpc();
    const error = await stranger.write({ address: h.alpha.contracts.vault, abi: vaultCallAbi, functionName: 'issue', args: [stranger.address, usd('1')], label: 'Vault' }).catch((e: unknown) => e);
    expect(revertError(error)).toEqual({ name: 'OwnableUnauthorizedAccount', args: [stranger.address] });
    expect(String((error as Error).message)).toMatch(new RegExp(`^Vault\\.issue at ${h.alpha.contracts.vault} on chain ${h.alpha.chainId} failed: reverted with OwnableUnauthorizedAccount\\(`));
  });

  it('names a revert only the shared error ABIs know, at simulation and at gas estimation', async () => {
    // The receiver ABI the node calls Wormhole apps with declares no errors; the vault's
    // `InvalidVaa` reads by name all the same.
    const forged = await h.forgeVaa({ emitterChain: h.beta.wormholeChainId, emitter: pad(h.beta.contracts.vault, { size: 32 }), payload: '0x', nonce: 0 }, [generatePrivateKey()]);
    const call = { address: h.alpha.contracts.vault, abi: wormholeReceiverAbi, functionName: 'receiveWormholeMessage', args: [forged], label: 'WormholeReceiver' } as const;
    for (const signer of [h.relayerOn(h.alpha), strangerBehindLaggingRpc()]) {
      const error = await signer.write(call).catch((e: unknown) => e);
      expect(revertError(error)?.name).toBe('InvalidVaa');
      expect(String((error as Error).message)).toContain('failed: reverted with InvalidVaa(');
    }
  });
});

describe('a leg whose deadline passes between the latest block and the one its delivery lands in', () => {
  it('is refused by name (LegExpired), fails without a retry, and is refunded once', async () => {
    const betaBefore = (await h.account(h.beta, account)).collateral;
    const pendingTime = async (key: 'alpha' | 'beta') => (await h.relayerOn(h.chain(key)).public.getBlock({ blockTag: 'pending' })).timestamp;
    // Sendable now (beta's next block is well before it); alpha's latest block is before it too.
    const deadline = [await pendingTime('alpha'), await pendingTime('beta')].reduce((a, b) => (a > b ? a : b)) + 60n;
    const { legIds } = await createPlan(ledger.db, {
      chainId: h.alpha.chainId,
      account,
      legs: [collateralLeg(usd('25'), { sourceChainId: h.beta.chainId, destinationChainId: h.alpha.chainId, transport: 'wormhole', account, deadline: new Date(Number(deadline) * 1_000) })],
    });
    const legId = legIds[0] as Hash;
    await sendLegStep(context, legId);
    expect((await getLeg(ledger.db, legId))?.status).toBe('sent');

    // Alpha's next block comes one second after the deadline; its latest is still before it.
    const alpha = anvilControl(h.endpointOf(h.alpha));
    await alpha.setNextBlockTimestamp({ timestamp: deadline + 1n });
    expect(await h.chainTime(h.alpha)).toBeLessThanOrEqual(deadline);

    const attempt = deliverLegStep(context, legId);
    await expect(attempt).rejects.toSatisfy(isFinal);
    const failed = await getLeg(ledger.db, legId);
    expect(failed).toMatchObject({ status: 'failed', failedFrom: 'sent' });
    expect(failed?.lastError).toMatch(/^destination refused: WormholeReceiver\.receiveWormholeMessage at .* failed: reverted with LegExpired\(/);
    expect(failed?.lastError).toContain(`LegExpired("${legId}", ${deadline}, ${deadline + 1n})`);

    // Once alpha's clock is past the deadline, reconciliation refunds what beta burned.
    await alpha.mine({ blocks: 1 });
    const result = await reconcile({ context, tokens: new Map(h.manifest.chains.map((c) => [c.chainId, c.contracts.collateralToken])), slaSeconds: 3_600 });
    expect(result.refunded).toEqual([legId]);
    expect((await listLegEvents(ledger.db, legId)).map((event) => event.toStatus)).toEqual(['planned', 'submitted', 'sent', 'failed', 'refunded']);
    expect((await h.account(h.beta, account)).collateral).toBe(betaBefore);
  });
});

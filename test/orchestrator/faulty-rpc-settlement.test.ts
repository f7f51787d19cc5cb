/**
 * Settlement through a faulty RPC, on the real devnet with the real ledger and Redis: alpha's
 * RPC (for the node's signers and transports, and for reconciliation) sits behind a proxy that
 * fails every other call with a 503, a JSON-RPC -32603, a reset or a body that does not parse.
 * Legs from and to alpha over both transports, run by the orchestrator's workers, all settle:
 * each sent once and credited once, none failed, none with a `reverted:` error, the ledger's
 * trail the plain one, and reconciliation clean. A leg whose source RPC keeps failing is not
 * failed as if the vault had refused it: it waits, submitted, for a retry.
 */
import { isFinal } from '../../relayer/orchestrator/job-processor.js';
import { eq } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { Hash } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usd } from '../../chains/protocol/units.js';
import { devnetTransports } from '../../chains/devnet/transports.js';
import { getLeg, listLegEvents, reconciledLegs, type LedgerHandle, type PlannedLeg } from '../../db/index.js';
import { collateralLegs, routesThrough, runLegs } from '../../relayer/bench/leg-run.js';
import { deliverLegStep } from '../../relayer/execution/deliver-leg.js';
import { devnetExecutionContext } from '../../relayer/execution/devnet-context.js';
import { sendLegStep } from '../../relayer/execution/send-leg.js';
import { createRedis } from '../../relayer/orchestrator/redis.js';
import { reconcile } from '../../relayer/reconcile/reconcile.js';
import { readVaults } from '../../relayer/reconcile/vault-ledger-view.js';
import { alternatingFaults, RpcProxy } from '../../chains/devnet/rpc-proxy.js';
import { ProtocolHarness, traderAddress } from '../contracts/protocol-harness.js';
import { createPlan } from '../db/support/fixtures.js';
import { createMigratedLedger } from '../db/support/test-database.js';
import { REDIS_URL } from '../watcher/support.js';
import { registerDevnetChains } from './support/devnet-settlement.js';

let h: ProtocolHarness;
let ledger: LedgerHandle;
let cleanupLedger: () => Promise<void>;
let connection: Redis;
let proxy: RpcProxy;
const traders = [0, 1, 2, 3];

beforeAll(async () => {
  h = await ProtocolHarness.start();
  ({ ledger, cleanup: cleanupLedger } = await createMigratedLedger());
  await registerDevnetChains(ledger.db, h);
  connection = createRedis(REDIS_URL);
  await h.seed({ accounts: traders.flatMap((trader) => ['alpha', 'beta', 'gamma'].map((chain) => ({ trader, chain, deposit: '10000', crossChainConsent: true }))) });
  proxy = new RpcProxy(h.alpha.rpcUrl, alternatingFaults());
});

afterAll(async () => {
  await proxy?.stop();
  connection?.disconnect();
  await cleanupLedger?.();
  await h?.stop();
});

describe('a leg whose source RPC keeps answering -32603', () => {
  it('is not failed as if refused: it stays submitted, the error says a retry can help, and it is sent once the RPC recovers', async () => {
    const url = await proxy.start();
    proxy.policy = (request) => (['eth_call', 'eth_estimateGas', 'eth_fillTransaction'].includes(request.method) ? { fault: 'rpc-error', code: -32603, message: 'Internal error' } : 'forward');
    try {
      const manifest = { chains: h.manifest.chains.map((chain) => (chain.key === 'alpha' ? { ...chain, rpcUrl: url } : chain)) };
      const context = devnetExecutionContext({ manifest, transports: devnetTransports({ manifest }), ledger: ledger.db, actor: 'test-node' });
      const deadline = new Date(Number(await h.chainTime(h.alpha)) * 1_000 + 3_600_000);
      const [leg] = collateralLegs({ manifest, routes: [{ from: 'alpha', to: 'beta', transport: 'wormhole' }], accounts: [traderAddress(0)], count: 1, amount: usd('5'), deadline });
      const { legIds } = await createPlan(ledger.db, { chainId: h.beta.chainId, account: traderAddress(0), legs: [leg as PlannedLeg] });
      const legId = legIds[0] as Hash;

      const error = await sendLegStep(context, legId).catch((e: unknown) => e);
      expect(isFinal(error)).toBe(false);
      expect(error).toMatchObject({ retryable: true, shortMessage: expect.stringMatching(/^sending leg 0x[0-9a-f]{64} from chain \d+ failed: RPC error -32603: Internal error$/) });
      expect(await getLeg(ledger.db, legId)).toMatchObject({ status: 'submitted', lastError: null });

      proxy.policy = () => 'forward';
      await sendLegStep(context, legId);
      await deliverLegStep(context, legId);
      expect((await getLeg(ledger.db, legId))?.status).toBe('credited');
    } finally {
      await proxy.stop();
      proxy = new RpcProxy(h.alpha.rpcUrl, alternatingFaults());
    }
  });
});

describe('legs through an RPC that fails every other call', () => {
  it('all settle, each sent and credited once, none failed, and reconcile clean', async () => {
    const url = await proxy.start();
    const manifest = { chains: h.manifest.chains.map((chain) => (chain.key === 'alpha' ? { ...chain, rpcUrl: url } : chain)) };
    const deadline = new Date(Number(await h.chainTime(h.alpha)) * 1_000 + 3_600_000);
    const planned = collateralLegs({ manifest, routes: routesThrough(manifest, 'alpha'), accounts: traders.map(traderAddress), count: 16, amount: usd('25'), deadline });

    const run = await runLegs({ manifest, ledger: ledger.db, connection, legs: planned, limitMs: 120_000 });

    expect(run.legs.map((leg) => [leg.status, leg.lastError])).toEqual(planned.map(() => ['credited', null]));
    for (const leg of run.legs) expect((await listLegEvents(ledger.db, leg.id)).map((event) => event.toStatus)).toEqual(['planned', 'submitted', 'sent', 'verified', 'delivered', 'credited']);
    // Every fault was met on the way, many times.
    expect([...proxy.faults.keys()].sort()).toEqual(['garbage', 'reset', 'rpc-error', 'status']);
    expect(proxy.injected()).toBeGreaterThan(100);

    const tokens = new Map(h.manifest.chains.map((chain) => [chain.chainId, chain.contracts.collateralToken]));
    const view = await readVaults({ chains: [...run.context.chains.values()], tokens });
    for (const leg of run.legs) {
      expect(view.sent.get(leg.id)?.amount).toBe(usd('25'));
      expect(view.received.get(leg.id)?.map((credit) => credit.amount)).toEqual([usd('25')]);
    }
    // Reconciliation reads alpha through the same faulty RPC.
    const result = await reconcile({ context: run.context, tokens, slaSeconds: 3_600 });
    expect(result.findings).toEqual([]);
    const confirmed = await ledger.db.select({ legId: reconciledLegs.legId }).from(reconciledLegs).where(eq(reconciledLegs.runId, result.runId));
    expect(run.legs.filter((leg) => !confirmed.some((row) => row.legId === leg.id))).toEqual([]);
  });
});

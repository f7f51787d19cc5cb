/**
 * The closed loop (DESIGN.md section 7b) on the devnet, end to end: a node with its own
 * watchers, orchestrator and leg workers over the real chains, Redis and Postgres. The tests
 * only move oracle prices (and, once, hold a chain's mining) and then read what the node did
 * from the ledger and from the chains.
 */
import { randomBytes } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import type { Address, Hash } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { marginEngineAbi } from '../../chains/contracts/out/MarginEngine.js';
import { anvilControl } from '../../chains/devnet/control.js';
import { devnetAccount, devnetRoles } from '../../chains/devnet/keys.js';
import { pushPrice } from '../../chains/protocol/price-feed.js';
import { price, usd } from '../../chains/protocol/units.js';
import { hasLegEnded, settlements, shortfalls } from '../../db/index.js';
import { resolveNodeConfig } from '../../relayer/node/config.js';
import { nodeConfigForDevnet } from '../../relayer/node/devnet-config.js';
import { startNode, type RunningNode } from '../../relayer/node/start-node.js';
import { defaultPolicySettings } from '../../relayer/orchestrator/fixed-world.js';
import { openQueues } from '../../relayer/orchestrator/queues.js';
import { createRedis } from '../../relayer/orchestrator/redis.js';
import { ProtocolHarness, traderAddress } from '../contracts/protocol-harness.js';
import { createTestDatabase, type TestDatabase } from '../db/support/test-database.js';
import { REDIS_URL, until } from '../watcher/support.js';
import { engineHealth, legsOfShortfall, targetGap } from './support/devnet-settlement.js';

let h: ProtocolHarness;
let database: TestDatabase;
let node: RunningNode | undefined;
const redisPrefix = `closed-loop-${randomBytes(4).toString('hex')}`;

/** Trader 0 holds 3 ETH long on 1000 USD on alpha; trader 1, 20 SOL long on 500 USD. Both keep 5000 USD, with consent, on beta. */
const FALLING = traderAddress(0);
const CRASHING = traderAddress(1);

beforeAll(async () => {
  h = await ProtocolHarness.start();
  database = await createTestDatabase();
  await h.seed({
    accounts: [
      { trader: 0, chain: 'alpha', deposit: '1000', positions: [{ market: 'ETH-USD', size: '3' }] },
      { trader: 0, chain: 'beta', deposit: '5000', crossChainConsent: true },
      { trader: 1, chain: 'alpha', deposit: '500', positions: [{ market: 'SOL-USD', size: '20' }] },
      { trader: 1, chain: 'beta', deposit: '5000', crossChainConsent: true },
    ],
  });
  const { config, env } = nodeConfigForDevnet({ manifest: h.manifest, redisPrefix });
  // z close to 0 keeps m_eff at the static margin whatever the devnet's price jumps do to the
  // EWMA volatility, so who is at risk and what restores it is plain arithmetic (and the node's
  // target stays the default 1.2 times maintenance, which `targetGap` computes).
  node = await startNode(await resolveNodeConfig({ value: { ...config, watchers: { ...config.watchers, z: 0.001 } }, source: 'devnet', env: { ...env, DATABASE_URL: database.url } }));
  const running = node;
  const heads = new Map(await Promise.all(h.manifest.chains.map(async (chain) => [chain.chainId, await h.relayerOn(chain).public.getBlockNumber({ cacheTime: 0 })] as const)));
  await until('every watcher follows its chain at the head', () =>
    running.watchers.every((watcher) => {
      const status = watcher.status();
      return status.state === 'following' && (status.checkpoint?.number ?? -1n) >= (heads.get(status.chainId) ?? 0n);
    }),
  );
});

afterAll(async () => {
  await node?.stop();
  // Whatever the node left in Redis under its prefix goes with it.
  const connection = createRedis(REDIS_URL);
  const queues = openQueues({ connection, prefix: redisPrefix });
  try {
    await Promise.all(Object.values(queues.byName).map((queue) => queue.obliterate({ force: true })));
  } finally {
    await queues.close();
    connection.disconnect();
  }
  await database?.drop();
  await h?.stop();
});

const ledger = () => {
  if (!node) throw new Error('the node is not running');
  return node.ledger.db;
};

/** Pushes a price on alpha's feed of `symbol`; resolves to the block it was mined in. */
async function pushOnAlpha(symbol: string, value: string): Promise<bigint> {
  const market = h.alpha.markets.find((m) => m.symbol === symbol);
  if (!market) throw new Error(`no ${symbol} market on alpha`);
  return (await pushPrice({ signer: h.deployerOn(h.alpha), feed: market.priceFeed, price: price(value) })).blockNumber;
}

/** Every episode the ledger holds for `account` on alpha. */
const episodesOf = (account: Address) =>
  ledger().select().from(shortfalls).where(and(eq(shortfalls.chainId, h.alpha.chainId), eq(shortfalls.account, account))).orderBy(asc(shortfalls.episode));

const revisionsOf = (shortfallId: Hash) => ledger().select().from(settlements).where(eq(settlements.shortfallId, shortfallId)).orderBy(asc(settlements.revision));

/** The one episode of `account`, once the watcher has opened it. */
async function theEpisodeOf(account: Address) {
  await until(`an episode of ${account} is open`, async () => (await episodesOf(account)).length > 0);
  const [episode, ...more] = await episodesOf(account);
  if (!episode || more.length > 0) throw new Error(`expected one episode of ${account}, the ledger has ${more.length + (episode ? 1 : 0)}`);
  return episode;
}

/**
 * Waits until the loop is done with `account`'s episode: the watcher closed it and every leg of
 * every revision ended. A failed or refunded leg ends the wait at once.
 */
async function episodeEnded(account: Address, shortfallId: Hash): Promise<void> {
  await until(`the episode of ${account} is closed with every leg ended`, async () => {
    const recorded = await legsOfShortfall(ledger(), shortfallId);
    const lost = recorded.filter((leg) => leg.status === 'failed' || leg.status === 'refunded');
    if (lost.length > 0) throw new Error(`legs ${lost.map((leg) => `${leg.id} ${leg.status}: ${leg.lastError ?? ''}`).join('; ')}`);
    const [episode] = await episodesOf(account);
    return episode?.status === 'closed' && recorded.length > 0 && recorded.every((leg) => hasLegEnded(leg.status));
  }, 45_000);
}

/** Whether `a` and `b` differ by at most `tolerance` (the core's sizes are rounded). */
const within = (a: bigint, b: bigint, tolerance: bigint): boolean => (a > b ? a - b : b - a) <= tolerance;

/** The node's own address: the liquidator of its local legs and the sender of its legs. */
const NODE = devnetAccount(devnetRoles.relayer).address;

describe('the closed loop on the devnet', () => {
  it('an account that keeps falling after its first settlement is topped up until restored', async () => {
    const account = FALLING;
    // ETH at 2813: 439 USD of equity against 421.95 of maintenance, under the warn level
    // (1.05 times maintenance) and above maintenance: at risk, not liquidatable.
    const betaMining = anvilControl(h.endpointOf(h.beta));
    // Beta mines nothing until the price has fallen again: the first revision is on its way
    // (submitted on beta, not yet mined) while the account deepens, whatever the node's speed.
    await betaMining.setAutomine(false);
    let p2Block: bigint;
    let shortfallId: Hash;
    /** What the watcher required at the lower price. */
    let requiredAtP2: bigint;
    try {
      const p1Block = await pushOnAlpha('ETH-USD', '2813');
      const atP1 = await engineHealth(h, h.alpha, account);
      expect(atP1.equity).toBeGreaterThanOrEqual(atP1.maintenance);
      expect(atP1.equity * 100n).toBeLessThan(atP1.maintenance * 105n);

      const opened = await theEpisodeOf(account);
      shortfallId = opened.id;
      expect([opened.status, opened.reason, opened.detectedBlock]).toEqual(['open', 'breach', p1Block]);
      // Revision 0: the account's own surplus on beta, submitted there and held by beta's mining.
      await until('revision 0 is submitted on beta', async () => (await legsOfShortfall(ledger(), shortfallId)).some((leg) => leg.status === 'submitted'));
      const [first] = await legsOfShortfall(ledger(), shortfallId);
      expect([first?.kind, first?.sourceChainId]).toEqual(['collateral', h.beta.chainId]);
      expect(within(first?.amount ?? 0n, targetGap(atP1), usd('0.01'))).toBe(true);

      // ETH falls further, to 2808: still above maintenance (424 against 421.2), but the target
      // now needs 81.44 USD, more than the 67.34 on its way.
      p2Block = await pushOnAlpha('ETH-USD', '2808');
      const atP2 = await engineHealth(h, h.alpha, account);
      expect(atP2.equity).toBeGreaterThanOrEqual(atP2.maintenance);
      await until('revision 1 is recorded', async () => (await revisionsOf(shortfallId)).length >= 2);
      // The watcher re-assessed the same open episode at the block of the fall.
      const [reassessed] = await episodesOf(account);
      expect([reassessed?.id, reassessed?.status, reassessed?.latestBlock]).toEqual([shortfallId, 'open', p2Block]);
      requiredAtP2 = reassessed?.latestRequiredAmount ?? 0n;
      expect(within(requiredAtP2, targetGap(atP2), usd('0.01'))).toBe(true);
    } finally {
      await betaMining.setAutomine(true);
    }
    await betaMining.mine({ blocks: 1 });
    await episodeEnded(account, shortfallId);

    // The ledger: revisions 0, 1, ... of the one episode, each with its legs credited, all of
    // them the account's surplus on beta, landing on alpha after the fall.
    expect((await episodesOf(account)).map((row) => row.id)).toEqual([shortfallId]);
    const revisions = await revisionsOf(shortfallId);
    expect(revisions.map((r) => r.revision)).toEqual(revisions.map((_, i) => i));
    expect(revisions.length).toBeGreaterThanOrEqual(2);
    const recorded = await legsOfShortfall(ledger(), shortfallId);
    for (const revision of revisions) expect(recorded.filter((leg) => leg.settlementId === revision.id).length).toBeGreaterThan(0);
    expect(recorded.map((leg) => [leg.kind, leg.sourceChainId, leg.destinationChainId, leg.status])).toEqual(recorded.map(() => ['collateral', h.beta.chainId, h.alpha.chainId, 'credited']));
    for (const leg of recorded) expect(leg.destinationBlock).toBeGreaterThan(p2Block);
    // Revision 1 planned what the fall added on top of what revision 0 had on its way.
    const [rev0, rev1] = revisions;
    expect(within(rev1?.requiredAmount ?? 0n, requiredAtP2 - (rev0?.coveredAmount ?? 0n), usd('0.01'))).toBe(true);
    // Together the legs brought what the account needed at the lower price, no more.
    expect(within(recorded.reduce((sum, leg) => sum + leg.amount, 0n), requiredAtP2, usd('0.01'))).toBe(true);

    // The chain: above maintenance, at the target (what is left is below the smallest action),
    // and the watcher closed the episode on it.
    const after = await engineHealth(h, h.alpha, account);
    expect(after.equity).toBeGreaterThanOrEqual(after.maintenance);
    expect(targetGap(after)).toBeLessThan(defaultPolicySettings.minAction);
    const [closed] = await episodesOf(account);
    expect(closed?.detail['closedBy']).toBe('recovered');
    // It closes once the account is back above its warn level: once value landed, not before
    // (the last top-up may land after that).
    const firstCredit = recorded.reduce((min, leg) => ((leg.destinationBlock ?? 0n) < min ? (leg.destinationBlock ?? 0n) : min), recorded[0]?.destinationBlock ?? 0n);
    expect(BigInt(String(closed?.detail['closedAtBlock']))).toBeGreaterThanOrEqual(firstCredit);
  });

  it('a crash where cross-chain value cannot arrive before the account crosses maintenance: the home action runs in the same block range', async () => {
    const account = CRASHING;
    const sol = h.alpha.markets.find((m) => m.symbol === 'SOL-USD');
    if (!sol) throw new Error('no SOL market on alpha');
    const sizeBefore = (await h.position(h.alpha, account, sol.marketId)).size;
    // SOL from 150 to 134 in one round: 180 USD of equity against 214.4 of maintenance, below it
    // at once; the account's 5000 on beta would take a cross-chain leg to arrive.
    const crashBlock = await pushOnAlpha('SOL-USD', '134');
    const atCrash = await engineHealth(h, h.alpha, account);
    expect(atCrash.equity).toBeLessThan(atCrash.maintenance);

    const episode = await theEpisodeOf(account);
    await episodeEnded(account, episode.id);
    expect(episode.detectedBlock).toBeGreaterThanOrEqual(crashBlock);
    expect(episode.equity).toBeLessThan(episode.maintenance);

    // The first action: the home action alone, revision 0, a partial liquidation on alpha by the node.
    const revisions = await revisionsOf(episode.id);
    const recorded = await legsOfShortfall(ledger(), episode.id);
    const [home, ...rest] = recorded;
    expect(revisions[0]?.plan['decision']).toBe('home');
    expect([home?.settlementId, home?.kind, home?.sourceChainId, home?.status]).toEqual([revisions[0]?.id, 'local', h.alpha.chainId, 'credited']);
    const homeBlock = home?.destinationBlock ?? 0n;
    const liquidations = await h.relayerOn(h.alpha).public.getContractEvents({ address: h.alpha.contracts.marginEngine, abi: marginEngineAbi, eventName: 'Liquidated', args: { account }, fromBlock: crashBlock });
    expect(liquidations.map((log) => [log.blockNumber, log.args.liquidator, log.args.market])).toEqual([[homeBlock, NODE, sol.marketId]]);
    // Mined within a few blocks of the block whose state the watcher detected the breach at.
    expect(homeBlock).toBeGreaterThan(episode.detectedBlock);
    expect(homeBlock - episode.detectedBlock).toBeLessThanOrEqual(3n);
    const sizeAfter = (await h.position(h.alpha, account, sol.marketId)).size;
    expect(sizeAfter).toBeGreaterThan(0n);
    expect(sizeAfter).toBeLessThan(sizeBefore);

    // Cross-chain value came after it, in later revisions, each credited in a later block.
    expect(rest.length).toBeGreaterThan(0);
    for (const leg of rest) {
      expect(leg.settlementId).not.toBe(revisions[0]?.id);
      expect([leg.kind === 'local', leg.status]).toEqual([false, 'credited']);
      expect(leg.destinationBlock).toBeGreaterThan(homeBlock);
    }
    const after = await engineHealth(h, h.alpha, account);
    expect(after.equity).toBeGreaterThanOrEqual(after.maintenance);
    expect(targetGap(after)).toBeLessThan(defaultPolicySettings.minAction);
    expect((await episodesOf(account))[0]?.detail['closedBy']).toBe('recovered');
  });
});

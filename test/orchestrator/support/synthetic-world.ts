/**
 * A world for the orchestrator tests that run without chains: every account has the health of
 * `syntheticReport` (so the snapshot's required amount is the report's) and no position, and is
 * offered the same hand-made sources, each net of what the ledger has reserved on it, as the
 * chains' world offers them (ChainWorld). It counts its reads, remembers whose world was read,
 * and can fail a number of reads the way a flaky RPC does.
 */
import type { Address } from 'viem';
import { reservedOnSources, type LedgerDatabase, type LegReservation, type ReservationRead } from '../../../db/index.js';
import { sourceKey, type AccountWorld, type WorldRequest, type WorldSource } from '../../../relayer/orchestrator/chain-world.js';
import type { PolicySource } from '../../../relayer/policy/index.js';

/** The engine's view that matches `syntheticReport`: 900 USD of equity against 1000 of maintenance. */
export const SYNTHETIC_HEALTH = { equity: 900_000_000n, maintenance: 1_000_000_000n, initial: 2_000_000_000n } as const;

/** The block the synthetic sources are read at (a leg planned or sent counts against it either way). */
const OBSERVED_BLOCK = 100n;

/** The account's consented surplus on `chainId`, over LayerZero, at `fixedCostUsd` a leg (gas and fee). */
export function collateralSource(params: { chainId: number; key: string; fixedCostUsd: number; capacity?: bigint; latencySeconds?: number }): PolicySource {
  return {
    kind: 'collateral',
    chainId: params.chainId,
    key: params.key,
    capacity: params.capacity ?? 5_000_000_000n,
    routes: [{ transport: 'layerzero', fixedCostUsd: params.fixedCostUsd, latencySeconds: params.latencySeconds ?? 10 }],
  };
}

export class SyntheticWorld implements WorldSource {
  /** Reads asked for, failed ones included. */
  calls = 0;
  /** Reads still to fail, one per read. */
  failuresLeft = 0;
  /** Whose world was read, in order (failed reads included). */
  readonly accounts: Address[] = [];

  constructor(
    private readonly params: {
      readonly ledger: LedgerDatabase;
      readonly sources: readonly PolicySource[];
      readonly health?: AccountWorld['health'];
    },
  ) {}

  async worldFor(request: WorldRequest): Promise<AccountWorld> {
    this.calls += 1;
    this.accounts.push(request.account);
    if (this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      throw new Error('RPC timed out (transient)');
    }
    const gross = this.params.sources;
    const reads: ReservationRead[] = gross.map((source) =>
      source.kind === 'collateral'
        ? { sourceChainId: source.chainId, source: 'surplus', account: request.account, observedBlock: OBSERVED_BLOCK }
        : { sourceChainId: source.chainId, source: 'vault', observedBlock: OBSERVED_BLOCK },
    );
    const reserved = await reservedOnSources(this.params.ledger, reads);
    const observed = new Map<string, LegReservation>();
    const sources: PolicySource[] = [];
    gross.forEach((source, i) => {
      observed.set(sourceKey(source.kind, source.chainId), { capacity: source.capacity, observedBlock: OBSERVED_BLOCK });
      const net = source.capacity - (reserved[i] ?? 0n);
      if (net > 0n) sources.push({ ...source, capacity: net });
    });
    return { health: this.params.health ?? SYNTHETIC_HEALTH, positions: [], sources, homeGasUsd: 0.1, markets: new Map(), observed };
  }
}

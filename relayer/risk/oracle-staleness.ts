export interface OracleAge {
  /** now - updatedAt, never negative: a round stamped ahead of the block clock counts as new. */
  readonly ageSeconds: number;
  /** Older than the feed's heartbeat: the price can no longer vouch for the account. */
  readonly stale: boolean;
  /** T_oracle: the age capped by the heartbeat (past it the feed must have updated or be stale). */
  readonly oracleSeconds: number;
}

export function oracleAge(params: { now: number; updatedAt: number; heartbeatSeconds: number }): OracleAge {
  const ageSeconds = Math.max(0, params.now - params.updatedAt);
  return {
    ageSeconds,
    stale: ageSeconds > params.heartbeatSeconds,
    oracleSeconds: Math.min(ageSeconds, params.heartbeatSeconds),
  };
}

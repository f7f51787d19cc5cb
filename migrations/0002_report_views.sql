-- Hand-written (drizzle-kit generate --custom): the SQL reports, as views an auditor can read
-- with psql. They read the audit trail (leg_events) for anything time-based, so a report is
-- what the trail proves, not what a mutable column currently says. Amounts are base units
-- (numeric, exact); counts are int; chains are named by key; days are UTC 'YYYY-MM-DD' text,
-- so every driver reads the same values. db/reports/catalog.ts names them for `relayer report`.
-- A later migration that alters a column a view reads must drop and re-create the view
-- (drizzle-kit does not know about these).

-- One row per settlement: its legs by stage and a status derived from them.
CREATE VIEW "report_settlement_status" AS
SELECT
  s.id AS settlement_id,
  s.shortfall_id,
  s.revision,
  c.key AS chain,
  sf.account,
  s.required_amount,
  s.covered_amount,
  s.uncovered_amount,
  s.planned_cost_usd,
  count(l.id)::int AS legs,
  (count(l.id) FILTER (WHERE l.status IN ('planned', 'submitted')))::int AS legs_pending,
  (count(l.id) FILTER (WHERE l.status IN ('sent', 'verified', 'delivered')))::int AS legs_in_flight,
  (count(l.id) FILTER (WHERE l.status = 'credited'))::int AS legs_credited,
  (count(l.id) FILTER (WHERE l.status = 'failed'))::int AS legs_failed,
  (count(l.id) FILTER (WHERE l.status = 'refunded'))::int AS legs_refunded,
  coalesce(sum(l.amount) FILTER (WHERE l.status = 'credited'), 0) AS credited_amount,
  CASE
    WHEN count(l.id) = 0 THEN 'planned'
    WHEN bool_and(l.status = 'credited') THEN 'settled'
    WHEN bool_or(l.status IN ('planned', 'submitted', 'sent', 'verified', 'delivered')) THEN 'in_progress'
    WHEN bool_or(l.status = 'credited') THEN 'partial'
    ELSE 'failed'
  END AS status,
  s.created_at,
  (SELECT max(e.occurred_at) FROM "leg_events" e JOIN "legs" el ON el.id = e.leg_id WHERE el.settlement_id = s.id)
    AS last_event_at
FROM "settlements" s
JOIN "shortfalls" sf ON sf.id = s.shortfall_id
JOIN "chains" c ON c.chain_id = sf.chain_id
LEFT JOIN "legs" l ON l.settlement_id = s.id
GROUP BY s.id, sf.id, c.chain_id;
--> statement-breakpoint
-- Legs an auditor must look at, one row each with the most serious reason:
--   open_finding            reconciliation found a mismatch not yet resolved
--   burned_not_refunded     failed after its source burned the amount, and no refund yet
--   in_flight               burned on the source, not yet credited on the destination
--   awaiting_reconciliation final, but no reconciliation run has confirmed it since
CREATE VIEW "report_unreconciled_legs" AS
WITH classified AS (
  SELECT
    l.*,
    last_event.occurred_at AS status_since,
    last_event.recorded_at AS status_recorded_at,
    (SELECT count(*) FROM "reconciliation_findings" f WHERE f.leg_id = l.id AND f.resolved_at IS NULL)::int
      AS open_findings,
    EXISTS (
      SELECT 1 FROM "reconciled_legs" r WHERE r.leg_id = l.id AND r.reconciled_at >= last_event.recorded_at
    ) AS reconciled
  FROM "legs" l
  JOIN "leg_events" last_event ON last_event.leg_id = l.id AND last_event.seq = l.version
)
SELECT
  x.id AS leg_id,
  x.settlement_id,
  x.kind,
  src.key AS source_chain,
  dst.key AS destination_chain,
  x.transport,
  x.amount,
  x.status,
  x.failed_from,
  x.message_id,
  CASE
    WHEN x.open_findings > 0 THEN 'open_finding'
    WHEN x.status = 'failed' AND x.failed_from IN ('sent', 'verified') THEN 'burned_not_refunded'
    WHEN x.status IN ('sent', 'verified', 'delivered') THEN 'in_flight'
    ELSE 'awaiting_reconciliation'
  END AS reason,
  x.open_findings,
  x.status_since
FROM classified x
JOIN "chains" src ON src.chain_id = x.source_chain_id
JOIN "chains" dst ON dst.chain_id = x.destination_chain_id
WHERE x.open_findings > 0
   OR x.status IN ('sent', 'verified', 'delivered')
   OR (x.status = 'failed' AND x.failed_from IN ('sent', 'verified'))
   OR (NOT x.reconciled AND (x.status IN ('credited', 'refunded') OR x.status = 'failed'));
--> statement-breakpoint
-- Value leaving (burned on send) and arriving (minted on delivery, or refunded to the source)
-- per chain per UTC day. Local legs never leave their chain and are not flows.
CREATE VIEW "report_flows_daily" AS
WITH moves AS (
  SELECT l.source_chain_id AS chain_id, e.occurred_at,
         1 AS legs_out, coalesce(e.amount, l.amount) AS amount_out,
         0 AS legs_in, 0::numeric AS amount_in, 0::numeric AS amount_refunded
  FROM "leg_events" e JOIN "legs" l ON l.id = e.leg_id
  WHERE e.to_status = 'sent' AND l.kind <> 'local'
  UNION ALL
  SELECT l.destination_chain_id, e.occurred_at, 0, 0, 1, coalesce(e.amount, l.amount), 0
  FROM "leg_events" e JOIN "legs" l ON l.id = e.leg_id
  WHERE e.to_status = 'delivered' AND l.kind <> 'local'
  UNION ALL
  SELECT l.source_chain_id, e.occurred_at, 0, 0, 0, 0, coalesce(e.amount, l.amount)
  FROM "leg_events" e JOIN "legs" l ON l.id = e.leg_id
  WHERE e.to_status = 'refunded' AND l.kind <> 'local'
)
SELECT
  c.key AS chain,
  to_char(m.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
  sum(m.legs_out)::int AS legs_out,
  sum(m.amount_out) AS amount_out,
  sum(m.legs_in)::int AS legs_in,
  sum(m.amount_in) AS amount_in,
  sum(m.amount_refunded) AS amount_refunded,
  sum(m.amount_in) + sum(m.amount_refunded) - sum(m.amount_out) AS net_amount
FROM moves m
JOIN "chains" c ON c.chain_id = m.chain_id
GROUP BY c.key, to_char(m.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD');
--> statement-breakpoint
-- What each route (source chain x transport) costs: native fees on each side (wei of that
-- chain), their USD value, per leg and in basis points of the amount it delivered (USD at the
-- collateral's decimals). Failed legs count: their fees are part of what the route costs.
CREATE VIEW "report_route_costs" AS
WITH leg_fees AS (
  SELECT
    l.id, l.source_chain_id, l.transport, l.status, l.amount,
    coalesce(sum(e.fee) FILTER (WHERE e.chain_id = l.source_chain_id), 0) AS source_fee,
    coalesce(sum(e.fee) FILTER (WHERE e.chain_id = l.destination_chain_id), 0) AS destination_fee,
    coalesce(sum(e.fee_usd), 0) AS fee_usd
  FROM "legs" l
  LEFT JOIN "leg_events" e ON e.leg_id = l.id
  WHERE l.transport IS NOT NULL
  GROUP BY l.id
)
SELECT
  c.key AS source_chain,
  f.transport,
  count(*)::int AS legs,
  (count(*) FILTER (WHERE f.status IN ('delivered', 'credited')))::int AS legs_delivered,
  (count(*) FILTER (WHERE f.status IN ('failed', 'refunded')))::int AS legs_failed,
  coalesce(sum(f.amount) FILTER (WHERE f.status IN ('delivered', 'credited')), 0) AS amount_delivered,
  sum(f.source_fee) AS source_fees,
  sum(f.destination_fee) AS destination_fees,
  sum(f.fee_usd) AS fee_usd,
  round(sum(f.fee_usd) / count(*), 6) AS fee_usd_per_leg,
  CASE WHEN coalesce(sum(f.amount) FILTER (WHERE f.status IN ('delivered', 'credited')), 0) > 0 THEN
    round(sum(f.fee_usd) * 10000
          / (sum(f.amount) FILTER (WHERE f.status IN ('delivered', 'credited')) / power(10::numeric, c.collateral_decimals)), 4)
  END AS cost_bps
FROM leg_fees f
JOIN "chains" c ON c.chain_id = f.source_chain_id
GROUP BY c.chain_id, f.transport;
--> statement-breakpoint
-- How long each transport takes, from the source transaction's confirmation (sent) to the
-- destination's execution (delivered), over every leg that got there; and end to end, from
-- submission to credit. Percentiles interpolate (percentile_cont).
CREATE VIEW "report_transport_latency" AS
WITH timed AS (
  SELECT
    l.transport,
    extract(epoch FROM (delivered.occurred_at - sent.occurred_at))::double precision AS delivery_seconds,
    extract(epoch FROM (credited.occurred_at - submitted.occurred_at))::double precision AS end_to_end_seconds
  FROM "legs" l
  JOIN "leg_events" sent ON sent.leg_id = l.id AND sent.to_status = 'sent'
  JOIN "leg_events" delivered ON delivered.leg_id = l.id AND delivered.to_status = 'delivered'
  LEFT JOIN "leg_events" submitted ON submitted.leg_id = l.id AND submitted.to_status = 'submitted'
  LEFT JOIN "leg_events" credited ON credited.leg_id = l.id AND credited.to_status = 'credited'
  WHERE l.transport IS NOT NULL
)
SELECT
  transport,
  count(*)::int AS legs,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY delivery_seconds) AS p50_seconds,
  percentile_cont(0.9) WITHIN GROUP (ORDER BY delivery_seconds) AS p90_seconds,
  percentile_cont(0.99) WITHIN GROUP (ORDER BY delivery_seconds) AS p99_seconds,
  max(delivery_seconds) AS max_seconds,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY end_to_end_seconds) AS p50_end_to_end_seconds
FROM timed
GROUP BY transport;
--> statement-breakpoint
-- Per chain: what shortfalls required, what credited legs covered, what closed uncovered,
-- and the bad debt the protocol took (recorded from the chain when an episode closed).
CREATE VIEW "report_bad_debt" AS
WITH per_shortfall AS (
  SELECT
    sf.*,
    coalesce((
      SELECT sum(l.amount) FROM "settlements" s JOIN "legs" l ON l.settlement_id = s.id
      WHERE s.shortfall_id = sf.id AND l.status = 'credited'
    ), 0) AS credited
  FROM "shortfalls" sf
)
SELECT
  c.key AS chain,
  count(*)::int AS shortfalls,
  (count(*) FILTER (WHERE p.status = 'open'))::int AS open_shortfalls,
  sum(p.required_amount) AS required_amount,
  sum(least(p.credited, p.required_amount)) AS covered_amount,
  coalesce(sum(greatest(p.required_amount - p.credited, 0)) FILTER (WHERE p.status = 'closed'), 0)
    AS closed_uncovered_amount,
  sum(p.bad_debt) AS bad_debt,
  (count(DISTINCT p.account) FILTER (WHERE p.bad_debt > 0))::int AS accounts_with_bad_debt,
  round(sum(p.bad_debt) / power(10::numeric, c.collateral_decimals), 6) AS bad_debt_usd
FROM per_shortfall p
JOIN "chains" c ON c.chain_id = p.chain_id
GROUP BY c.chain_id;

-- Hand-written (drizzle-kit generate --custom): `report_backstop_inventory`, one row per chain
-- and market the backstop has traded or been marked in: its position at the latest mark (size,
-- entry, the oracle then, unrealised PnL), what its unwinds sold or bought back, at what cost
-- against the oracle, and the PnL they realised. Money at the chain's collateral decimals.
CREATE VIEW "report_backstop_inventory" AS
WITH latest AS (
  SELECT DISTINCT ON (m.chain_id, m.market_id) m.*
  FROM "backstop_marks" m
  ORDER BY m.chain_id, m.market_id, m.block_number DESC
), traded AS (
  SELECT u.chain_id, u.market_id, count(*)::int AS unwinds, sum(u.size) AS unwound_size,
         sum(u.proceeds) AS proceeds, sum(u.slippage) AS slippage, sum(u.realized_pnl) AS realized_pnl,
         max(u.block_number) AS last_unwind_block
  FROM "backstop_unwinds" u
  GROUP BY u.chain_id, u.market_id
), markets AS (
  SELECT chain_id, market_id FROM latest UNION SELECT chain_id, market_id FROM traded
)
SELECT
  c.key AS chain,
  k.market_id,
  coalesce(l.size, 0) AS size,
  l.entry_price,
  l.oracle_price AS mark_price,
  l.block_number AS marked_block,
  coalesce(t.unwinds, 0) AS unwinds,
  coalesce(t.unwound_size, 0) AS unwound_size,
  t.last_unwind_block,
  round(coalesce(t.realized_pnl, 0) / power(10::numeric, c.collateral_decimals), 6) AS realized_pnl_usd,
  round(coalesce(l.unrealized_pnl, 0) / power(10::numeric, c.collateral_decimals), 6) AS unrealized_pnl_usd,
  round(coalesce(t.slippage, 0) / power(10::numeric, c.collateral_decimals), 6) AS unwind_slippage_usd
FROM markets k
JOIN "chains" c ON c.chain_id = k.chain_id
LEFT JOIN latest l ON l.chain_id = k.chain_id AND l.market_id = k.market_id
LEFT JOIN traded t ON t.chain_id = k.chain_id AND t.market_id = k.market_id;
--> statement-breakpoint
GRANT SELECT ON "report_backstop_inventory" TO "auditor";

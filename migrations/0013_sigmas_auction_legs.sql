ALTER TYPE "public"."leg_kind" ADD VALUE 'auction';--> statement-breakpoint
ALTER TABLE "legs" DROP CONSTRAINT "legs_route_check";--> statement-breakpoint
ALTER TABLE "shortfalls" ADD COLUMN "latest_sigmas" jsonb;--> statement-breakpoint
ALTER TABLE "legs" ADD CONSTRAINT "legs_route_check" CHECK (case when "legs"."kind"::text in ('local', 'auction')
            then "legs"."transport" is null and "legs"."source_chain_id" = "legs"."destination_chain_id"
            else "legs"."transport" is not null and "legs"."source_chain_id" <> "legs"."destination_chain_id" end);--> statement-breakpoint
-- Hand-written (after the generated statements above): the report is the first assessment of its
-- per-market sigmas too, as 0009 does for the target fractions; and the rows recorded before.
CREATE FUNCTION "ledger_shortfalls_sigmas_from_report"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.latest_sigmas IS NULL AND jsonb_typeof(NEW.detail -> 'sigmas') = 'object' THEN
    NEW.latest_sigmas := NEW.detail -> 'sigmas';
  END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "shortfalls_sigmas_from_report" BEFORE INSERT ON "shortfalls"
  FOR EACH ROW EXECUTE FUNCTION "ledger_shortfalls_sigmas_from_report"();
--> statement-breakpoint
UPDATE "shortfalls" SET "latest_sigmas" = "detail" -> 'sigmas'
WHERE "latest_sigmas" IS NULL AND jsonb_typeof("detail" -> 'sigmas') = 'object';

--> statement-breakpoint
-- Flows are cross-chain legs: an auction leg, like a local one, never leaves its chain (and has no
-- transport); told by the transport, as the new enum value is unusable in this transaction.
CREATE OR REPLACE VIEW "report_flows_daily" AS
WITH moves AS (
  SELECT l.source_chain_id AS chain_id, e.occurred_at,
         1 AS legs_out, coalesce(e.amount, l.amount) AS amount_out,
         0 AS legs_in, 0::numeric AS amount_in, 0::numeric AS amount_refunded
  FROM "leg_events" e JOIN "legs" l ON l.id = e.leg_id
  WHERE e.to_status = 'sent' AND l.transport IS NOT NULL
  UNION ALL
  SELECT l.destination_chain_id, e.occurred_at, 0, 0, 1, coalesce(e.amount, l.amount), 0
  FROM "leg_events" e JOIN "legs" l ON l.id = e.leg_id
  WHERE e.to_status = 'delivered' AND l.transport IS NOT NULL
  UNION ALL
  SELECT l.source_chain_id, e.occurred_at, 0, 0, 0, 0, coalesce(e.amount, l.amount)
  FROM "leg_events" e JOIN "legs" l ON l.id = e.leg_id
  WHERE e.to_status = 'refunded' AND l.transport IS NOT NULL
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

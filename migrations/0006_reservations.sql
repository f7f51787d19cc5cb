-- Hand-written (drizzle-kit generate --custom): what 0005's columns need beyond their types.
--   1. legs recorded before `relief` existed were planned one USD of relief per USD moved:
--      their relief is their amount (the guard is off for this one update: final legs refuse
--      any change, and this is the migration's to make, not a writer's).
--   2. `relief` is fixed when a leg is planned, like its amount: the leg guard of 0001, again,
--      with relief among the fixed columns.
--   3. an episode's latest assessment starts as its report: filled on insert, whoever inserts
--      (db/ledger/record-shortfall.ts, or the watcher's own statement), and for the episodes
--      recorded before. `recordAssessments` moves it forward while the episode is open.
--   4. `report_reservations`: what each source (a vault per chain, an account's surplus per
--      chain) has reserved by legs that have not ended; readable by the auditor.

ALTER TABLE "legs" DISABLE TRIGGER "legs_guard";
--> statement-breakpoint
UPDATE "legs" SET "relief" = "amount" WHERE "relief" = 0;
--> statement-breakpoint
ALTER TABLE "legs" ENABLE TRIGGER "legs_guard";
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "ledger_legs_guard"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.status <> 'planned' OR NEW.version <> 1 THEN
      RAISE EXCEPTION 'leg % must be created planned at version 1, not % at version %', NEW.id, NEW.status, NEW.version
        USING ERRCODE = 'RL001';
    END IF;
    RETURN NEW;
  END IF;

  IF (NEW.id, NEW.settlement_id, NEW.leg_index, NEW.kind, NEW.source_chain_id, NEW.destination_chain_id,
      NEW.transport, NEW.account, NEW.market_id, NEW.amount, NEW.relief, NEW.position_size, NEW.deadline, NEW.created_at)
     IS DISTINCT FROM
     (OLD.id, OLD.settlement_id, OLD.leg_index, OLD.kind, OLD.source_chain_id, OLD.destination_chain_id,
      OLD.transport, OLD.account, OLD.market_id, OLD.amount, OLD.relief, OLD.position_size, OLD.deadline, OLD.created_at) THEN
    RAISE EXCEPTION 'leg %: what a leg moves, where and for whom is fixed when it is planned', OLD.id
      USING ERRCODE = 'RL002';
  END IF;
  IF OLD.message_id IS NOT NULL AND NEW.message_id IS DISTINCT FROM OLD.message_id THEN
    RAISE EXCEPTION 'leg %: message id % is already recorded', OLD.id, OLD.message_id USING ERRCODE = 'RL002';
  END IF;

  IF NEW.status = OLD.status THEN
    IF OLD.status IN ('credited', 'refunded') AND NEW IS DISTINCT FROM OLD THEN
      RAISE EXCEPTION 'leg % is % (final): it can no longer change', OLD.id, OLD.status USING ERRCODE = 'RL002';
    END IF;
    IF NEW.version <> OLD.version OR NEW.failed_from IS DISTINCT FROM OLD.failed_from THEN
      RAISE EXCEPTION 'leg %: version and failed_from change only with the status', OLD.id USING ERRCODE = 'RL002';
    END IF;
    RETURN NEW;
  END IF;

  IF NOT EXISTS (SELECT 1 FROM "leg_transitions" t WHERE t.from_status = OLD.status AND t.to_status = NEW.status) THEN
    RAISE EXCEPTION 'leg %: % -> % is not a leg transition', OLD.id, OLD.status, NEW.status USING ERRCODE = 'RL001';
  END IF;
  -- Same rule as REFUNDABLE_FAILED_FROM: only a leg that burned on its source has something to refund.
  IF NEW.status = 'refunded' AND OLD.failed_from NOT IN ('sent', 'verified') THEN
    RAISE EXCEPTION 'leg %: it failed from %, nothing left its source chain, nothing to refund', OLD.id, OLD.failed_from
      USING ERRCODE = 'RL001';
  END IF;
  IF NEW.version <> OLD.version + 1 THEN
    RAISE EXCEPTION 'leg %: a transition moves version % to %, not %', OLD.id, OLD.version, OLD.version + 1, NEW.version
      USING ERRCODE = 'RL002';
  END IF;
  -- failed_from is the database's to set: it decides whether a refund is owed.
  IF NEW.status = 'failed' THEN
    NEW.failed_from := OLD.status;
  ELSIF NEW.failed_from IS DISTINCT FROM OLD.failed_from THEN
    RAISE EXCEPTION 'leg %: failed_from is set only on failing', OLD.id USING ERRCODE = 'RL002';
  END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
UPDATE "shortfalls" SET
  "latest_required_amount" = "required_amount",
  "latest_equity" = "equity",
  "latest_maintenance" = "maintenance",
  "latest_m_eff" = CASE WHEN jsonb_typeof("detail" -> 'mEff') = 'number' THEN ("detail" ->> 'mEff')::double precision END,
  "latest_block" = "detected_block",
  "latest_at" = "detected_at"
WHERE "latest_block" IS NULL;
--> statement-breakpoint
-- The report is the first assessment: a row inserted without one gets the report's numbers
-- (mEff from its detail, where reports carry it). A writer that gives one keeps its own.
CREATE OR REPLACE FUNCTION "ledger_shortfalls_latest_from_report"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.latest_block IS NULL THEN
    NEW.latest_required_amount := NEW.required_amount;
    NEW.latest_equity := NEW.equity;
    NEW.latest_maintenance := NEW.maintenance;
    NEW.latest_m_eff := CASE WHEN jsonb_typeof(NEW.detail -> 'mEff') = 'number' THEN (NEW.detail ->> 'mEff')::double precision END;
    NEW.latest_block := NEW.detected_block;
    NEW.latest_at := NEW.detected_at;
  END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "shortfalls_latest_from_report" BEFORE INSERT ON "shortfalls"
  FOR EACH ROW EXECUTE FUNCTION "ledger_shortfalls_latest_from_report"();
--> statement-breakpoint
-- One row per source holding reservations: a vault on a chain (liquidity legs, account empty)
-- or an account's surplus on a chain (collateral legs). A leg reserves its amount from when it
-- is planned until it ends (credited, failed or refunded). `pending_amount` is the part not yet
-- burned on the source (planned, submitted): the rest (sent, verified, delivered) has already
-- left the source's balance, so a capacity read after its send block no longer includes it.
-- Amounts in base units; `reserved_usd` at the chain's collateral decimals; `oldest_planned_at`
-- from the audit trail (each leg's first event), the reservation held the longest.
CREATE VIEW "report_reservations" AS
SELECT
  c.key AS source_chain,
  CASE l.kind WHEN 'liquidity' THEN 'vault' ELSE 'surplus' END AS source,
  CASE WHEN l.kind = 'collateral' THEN l.account END AS account,
  count(*)::int AS legs,
  sum(l.amount) AS reserved_amount,
  coalesce(sum(l.amount) FILTER (WHERE l.status IN ('planned', 'submitted')), 0) AS pending_amount,
  coalesce(sum(l.amount) FILTER (WHERE l.status IN ('sent', 'verified', 'delivered')), 0) AS burned_amount,
  round(sum(l.amount) / power(10::numeric, c.collateral_decimals), 6) AS reserved_usd,
  min(planned.occurred_at) AS oldest_planned_at
FROM "legs" l
JOIN "chains" c ON c.chain_id = l.source_chain_id
JOIN "leg_events" planned ON planned.leg_id = l.id AND planned.seq = 1
WHERE l.kind IN ('collateral', 'liquidity') AND l.status NOT IN ('credited', 'failed', 'refunded')
GROUP BY c.chain_id, l.kind, CASE WHEN l.kind = 'collateral' THEN l.account END;
--> statement-breakpoint
-- 0003's default privileges cover views this same user creates; say it anyway, in case not.
GRANT SELECT ON "report_reservations" TO "auditor";

-- Hand-written (drizzle-kit generate --custom): the database's own guard of the leg state
-- machine and of the audit trail, so that no writer (a bug, a psql session) can bypass
-- db/ledger. Errors carry SQLSTATEs of class RL, mapped to typed errors in db/ledger/errors.ts:
--   RL001 illegal leg transition       RL002 immutable leg column changed
--   RL003 append-only table modified   RL004 leg status changed without its event
--   RL005 event inconsistent with its leg

-- The legal edges, the same as LEG_TRANSITIONS in db/leg-state-machine.ts (a test compares them).
INSERT INTO "leg_transitions" ("from_status", "to_status") VALUES
  ('planned', 'submitted'), ('planned', 'failed'),
  ('submitted', 'sent'), ('submitted', 'failed'),
  ('sent', 'verified'), ('sent', 'failed'),
  ('verified', 'delivered'), ('verified', 'failed'),
  ('delivered', 'credited'),
  ('failed', 'refunded');
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
      NEW.transport, NEW.account, NEW.market_id, NEW.amount, NEW.position_size, NEW.deadline, NEW.created_at)
     IS DISTINCT FROM
     (OLD.id, OLD.settlement_id, OLD.leg_index, OLD.kind, OLD.source_chain_id, OLD.destination_chain_id,
      OLD.transport, OLD.account, OLD.market_id, OLD.amount, OLD.position_size, OLD.deadline, OLD.created_at) THEN
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
CREATE TRIGGER "legs_guard" BEFORE INSERT OR UPDATE ON "legs"
  FOR EACH ROW EXECUTE FUNCTION "ledger_legs_guard"();
--> statement-breakpoint
-- Checked at commit: a leg's creation and each status change must come with the event of the
-- same seq, so a transition and its event commit together or not at all, whoever writes them.
CREATE OR REPLACE FUNCTION "ledger_legs_require_event"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM "leg_events" e WHERE e.leg_id = NEW.id AND e.seq = NEW.version AND e.to_status = NEW.status
  ) THEN
    RAISE EXCEPTION 'leg % became % (version %) without its leg_events row', NEW.id, NEW.status, NEW.version
      USING ERRCODE = 'RL004';
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "legs_created_with_event" AFTER INSERT ON "legs"
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION "ledger_legs_require_event"();
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "legs_transition_with_event" AFTER UPDATE OF "status" ON "legs"
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION "ledger_legs_require_event"();
--> statement-breakpoint
-- An event must describe the leg as it now is: its seq is the leg's version, its to_status the
-- leg's status, its from_status the previous event's to_status. No forged or out-of-order rows.
CREATE OR REPLACE FUNCTION "ledger_leg_events_guard"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  leg_status "leg_status";
  leg_version integer;
  previous "leg_status";
BEGIN
  SELECT l.status, l.version INTO leg_status, leg_version FROM "legs" l WHERE l.id = NEW.leg_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'event for unknown leg %', NEW.leg_id USING ERRCODE = 'RL005';
  END IF;
  IF NEW.seq <> leg_version OR NEW.to_status <> leg_status THEN
    RAISE EXCEPTION 'event % of leg % to % does not match the leg (version %, status %)',
      NEW.seq, NEW.leg_id, NEW.to_status, leg_version, leg_status USING ERRCODE = 'RL005';
  END IF;
  IF NEW.seq = 1 THEN
    IF NEW.from_status IS NOT NULL OR NEW.to_status <> 'planned' THEN
      RAISE EXCEPTION 'the first event of leg % records its planning', NEW.leg_id USING ERRCODE = 'RL005';
    END IF;
  ELSE
    SELECT e.to_status INTO previous FROM "leg_events" e WHERE e.leg_id = NEW.leg_id AND e.seq = NEW.seq - 1;
    IF NEW.from_status IS DISTINCT FROM previous THEN
      RAISE EXCEPTION 'event % of leg % starts from %, the previous event ended at %',
        NEW.seq, NEW.leg_id, NEW.from_status, previous USING ERRCODE = 'RL005';
    END IF;
  END IF;
  -- When the ledger wrote the row is the database's clock, not the writer's claim.
  NEW.recorded_at := now();
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "leg_events_guard" BEFORE INSERT ON "leg_events"
  FOR EACH ROW EXECUTE FUNCTION "ledger_leg_events_guard"();
--> statement-breakpoint
CREATE OR REPLACE FUNCTION "ledger_refuse_modification"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is %: % refused', TG_TABLE_NAME, TG_ARGV[0], TG_OP USING ERRCODE = 'RL003';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "leg_events_append_only" BEFORE UPDATE OR DELETE ON "leg_events"
  FOR EACH ROW EXECUTE FUNCTION "ledger_refuse_modification"('append-only');
--> statement-breakpoint
CREATE TRIGGER "leg_events_no_truncate" BEFORE TRUNCATE ON "leg_events"
  FOR EACH STATEMENT EXECUTE FUNCTION "ledger_refuse_modification"('append-only');
--> statement-breakpoint
-- The edges change only in a migration, which disables this trigger around its own edit.
CREATE TRIGGER "leg_transitions_read_only" BEFORE INSERT OR UPDATE OR DELETE ON "leg_transitions"
  FOR EACH ROW EXECUTE FUNCTION "ledger_refuse_modification"('fixed by migrations');
--> statement-breakpoint
CREATE TRIGGER "leg_transitions_no_truncate" BEFORE TRUNCATE ON "leg_transitions"
  FOR EACH STATEMENT EXECUTE FUNCTION "ledger_refuse_modification"('fixed by migrations');

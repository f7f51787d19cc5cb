-- Hand-written (drizzle-kit generate --custom): 0001's commit-time check that a leg's creation
-- and each status change come with their event, reading that event by its unique (leg_id, seq)
-- key and comparing its status afterwards. Stated as one predicate over leg_id, seq and
-- to_status, the planner could (after ANALYZE) pick the (to_status, occurred_at) index and scan
-- every 'planned' event for each new leg: a cost that grew with the ledger.
CREATE OR REPLACE FUNCTION "ledger_legs_require_event"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  recorded "leg_status";
BEGIN
  SELECT e.to_status INTO recorded FROM "leg_events" e WHERE e.leg_id = NEW.id AND e.seq = NEW.version;
  IF recorded IS DISTINCT FROM NEW.status THEN
    RAISE EXCEPTION 'leg % became % (version %) without its leg_events row', NEW.id, NEW.status, NEW.version
      USING ERRCODE = 'RL004';
  END IF;
  RETURN NULL;
END;
$$;

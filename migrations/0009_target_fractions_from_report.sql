-- Hand-written (drizzle-kit generate --custom): the report is the first assessment of its
-- per-market target fractions too. A row inserted without them takes the report's detail
-- (`targetFractions`, where reports carry it), beside 0006's trigger for the other columns;
-- and the rows recorded before.
CREATE FUNCTION "ledger_shortfalls_target_fractions_from_report"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.latest_target_fractions IS NULL AND jsonb_typeof(NEW.detail -> 'targetFractions') = 'object' THEN
    NEW.latest_target_fractions := NEW.detail -> 'targetFractions';
  END IF;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "shortfalls_target_fractions_from_report" BEFORE INSERT ON "shortfalls"
  FOR EACH ROW EXECUTE FUNCTION "ledger_shortfalls_target_fractions_from_report"();
--> statement-breakpoint
UPDATE "shortfalls" SET "latest_target_fractions" = "detail" -> 'targetFractions'
WHERE "latest_target_fractions" IS NULL AND jsonb_typeof("detail" -> 'targetFractions') = 'object';

-- Hand-written (drizzle-kit generate --custom): the read-only `auditor` role. Roles belong to
-- the whole server, not to one database, so this must cope with the role already existing
-- (created by hand, by another database's migration, or by one running at this very moment).
-- It is a NOLOGIN group: give a person access with
--   CREATE ROLE alice LOGIN PASSWORD '...' IN ROLE auditor;
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'auditor') THEN
    BEGIN
      CREATE ROLE "auditor" NOLOGIN;
    EXCEPTION
      -- Another database on this server created it between our check and our CREATE.
      WHEN duplicate_object OR unique_violation THEN NULL;
      WHEN insufficient_privilege THEN
        RAISE EXCEPTION 'role "auditor" does not exist and % may not create it', current_user
          USING ERRCODE = 'insufficient_privilege',
                HINT = 'create it once as a superuser: CREATE ROLE auditor NOLOGIN; then migrate again';
    END;
  END IF;
END
$$;
--> statement-breakpoint
GRANT USAGE ON SCHEMA "public" TO "auditor";
--> statement-breakpoint
GRANT USAGE ON SCHEMA "drizzle" TO "auditor";
--> statement-breakpoint
-- Whatever a pre-existing role was given before, in this database it reads and nothing else.
REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA "public" FROM "auditor";
--> statement-breakpoint
GRANT SELECT ON ALL TABLES IN SCHEMA "public" TO "auditor";
--> statement-breakpoint
GRANT SELECT ON ALL TABLES IN SCHEMA "drizzle" TO "auditor";
--> statement-breakpoint
-- Tables and views later migrations create (as this same user) are readable too.
ALTER DEFAULT PRIVILEGES IN SCHEMA "public" GRANT SELECT ON TABLES TO "auditor";

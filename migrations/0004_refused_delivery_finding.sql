-- Generated (drizzle-kit generate). The migrator runs every pending migration in one
-- transaction: PostgreSQL 12 and later accept ADD VALUE there, but the new value cannot be used
-- before that transaction commits, so no migration applied in the same run may use it.
ALTER TYPE "public"."finding_kind" ADD VALUE 'refused_delivery';

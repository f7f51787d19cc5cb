/**
 * drizzle-kit: `npx drizzle-kit generate` writes a migration for schema changes into
 * migrations/; hand-written SQL (triggers, views, roles) lives in `--custom` migrations there,
 * applied in journal order by `relayer migrate` (db/migrate.ts), never by `drizzle-kit push`.
 */
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './db/schema/index.ts',
  out: './migrations',
  strict: true,
  verbose: true,
  migrations: { table: '__drizzle_migrations', schema: 'drizzle' },
});

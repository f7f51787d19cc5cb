/**
 * The schema in db/schema and the migrations agree: `drizzle-kit generate` (run on a copy of
 * migrations/) finds nothing to generate. A schema change without its migration fails here.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_FOLDER } from '../../db/migrate.js';

const root = resolve(MIGRATIONS_FOLDER, '..');
let folder: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'relayer-drift-'));
  await cp(MIGRATIONS_FOLDER, join(folder, 'migrations'), { recursive: true });
  // Same settings as drizzle.config.ts, writing into the copy.
  const config = {
    dialect: 'postgresql',
    schema: join(root, 'db/schema/index.ts'),
    out: 'migrations', // drizzle-kit takes `out` relative to the working directory
    strict: true,
    migrations: { table: '__drizzle_migrations', schema: 'drizzle' },
  };
  await writeFile(join(folder, 'drizzle.config.json.ts'), `export default ${JSON.stringify(config)};\n`);
});

afterAll(async () => {
  if (folder) await rm(folder, { recursive: true, force: true });
});

describe('drizzle-kit', () => {
  it('finds no schema change missing from migrations/', async () => {
    const { stdout } = await promisify(execFile)(
      join(root, 'node_modules/.bin/drizzle-kit'),
      ['generate', '--config', join(folder, 'drizzle.config.json.ts')],
      { cwd: folder },
    );
    expect(stdout).toContain('No schema changes, nothing to migrate');
    expect((await readdir(join(folder, 'migrations'))).sort()).toEqual((await readdir(MIGRATIONS_FOLDER)).sort());
  });
});

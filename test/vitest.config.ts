import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration suites start anvil chains and talk to Postgres and Redis: give them room.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two workers on two cores: most suites wait on anvil, Postgres and Redis, not on the CPU
    // (vitest's default, cores - 1, runs them one at a time: 523 s against 370 s here).
    maxWorkers: 2,
  },
});

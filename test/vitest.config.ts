import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration suites start anvil chains and talk to Postgres and Redis: give them room.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});

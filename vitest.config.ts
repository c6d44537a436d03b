import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Embeds src/stdlib/*.dl in src/frontend/stdlib-sources.ts when a .dl file changed.
    globalSetup: ['scripts/embed-stdlib.mjs'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Property tests print their seed on failure; fast-check replays it with { seed, path }.
    reporters: ['default'],
  },
});

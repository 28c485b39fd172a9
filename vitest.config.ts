import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // One server (FerretDB or MONGODB_URI) for the whole run; started and stopped by the global setup.
    globalSetup: ['./test/support/global-setup.ts'],
    include: ['src/**/__tests__/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 300_000,
    // Two cores: run files in parallel but keep the load bounded.
    maxWorkers: 2,
    // The JSON report lets .ci/run print a plain 'N passed, N failed' closing line.
    reporters: ['default', ['json', { outputFile: '.cache/test-results.json' }]],
  },
})

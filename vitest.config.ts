import { configDefaults, defineConfig } from 'vitest/config'

// Three tiers, chosen by glob so test files stay where their feature lives.
// unit: no server at all (pure functions, the public surface); never runs the global setup, so it
// needs neither Go nor a database.
const unit = ['src/**/__tests__/**/*.test.ts', 'test/package/public-api.test.ts']
// slow: separate processes, large documents, packing the package, fault injection; each file took
// more than ~15 s on a two-core machine.
const slow = [
  'test/aws/durable.test.ts',
  'test/cli/process.test.ts',
  'test/examples/demo.test.ts',
  'test/faults/**/*.test.ts',
  'test/package/doc-samples.test.ts',
  'test/package/packed-package.test.ts',
  'test/session/concurrency.test.ts',
  'test/session/edit-sequences.property.test.ts',
  'test/session/scale.test.ts',
  'test/viewer/viewer.test.ts',
]
// integration: everything else under test/ (FerretDB or MONGODB_URI, fauxqs).

// The server is started once per run however many of these projects are selected; see the setup.
const serverSetup = ['./test/support/global-setup.ts']

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 300_000,
    // Two cores: run files in parallel but keep the load bounded.
    maxWorkers: 2,
    // The JSON report lets .ci/run print a plain 'N passed, N failed' closing line.
    reporters: ['default', ['json', { outputFile: '.cache/test-results.json' }]],
    projects: [
      { extends: true, test: { name: 'unit', include: unit } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...unit, ...slow],
          globalSetup: serverSetup,
        },
      },
      { extends: true, test: { name: 'slow', include: slow, globalSetup: serverSetup } },
    ],
  },
})

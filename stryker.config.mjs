// Mutation testing of the storage, validation and wire-format modules: `npm run test:mutation`.
// Slow (hours on two cores), so not part of .ci/run. Each mutant runs only the tests that cover it
// (perTest), under the project's vitest config (vitest.mutation.config.ts: the same, less the test
// files that run child processes or take minutes): the global setup starts the real test server.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'vitest.mutation.config.ts', related: true, pool: 'forks' },
  coverageAnalysis: 'perTest',
  // Static mutants (module-level code, and code the tests run in beforeAll such as index creation)
  // would each need the whole suite on a fresh server: hours. Include them with --ignoreStatic false.
  ignoreStatic: true,
  mutate: [
    'src/storage/*.ts',
    'src/storage/crypto/*.ts',
    'src/validation/*.ts',
    // Wire formats: what goes to SNS, SQS and WebSocket connections.
    'src/aws/feedback-format.ts',
    'src/aws/metadata-event.ts',
    'src/aws/metadata-changes.ts',
    'src/aws/template.ts',
    'src/aws/payload.ts',
  ],
  concurrency: 2,
  // Integration tests talk to a server: allow for a slow, shared machine on top of the measured time.
  timeoutMS: 30_000,
  timeoutFactor: 2,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: '.cache/mutation/report.html' },
  jsonReporter: { fileName: '.cache/mutation/report.json' },
  tempDirName: '.cache/stryker-tmp',
  ignorePatterns: ['dist', 'docs/api', 'coverage', '.cache/stryker-tmp', '.cache/mutation', '.cache/test-results.json'],
  cleanTempDir: 'always',
  // Re-runs only mutants whose code or covering tests changed since the last run.
  incremental: true,
  incrementalFile: '.cache/mutation/stryker-incremental.json',
  thresholds: { high: 90, low: 80, break: null },
}

/**
 * The project's vitest config for mutation runs (`npm run test:mutation`), less the test files that
 * cannot kill a mutant or take minutes per run: child processes (they run the code unmutated), the
 * examples (child processes too) and the 20,000-message scale test (its paths are covered by the
 * session tests at a fraction of the time).
 */
import { configDefaults, defineConfig, mergeConfig } from 'vitest/config'
import project from './vitest.config.js'

export default mergeConfig(
  project,
  defineConfig({
    test: {
      exclude: [
        ...configDefaults.exclude,
        'test/cli/process.test.ts',
        'test/examples/**',
        'test/session/scale.test.ts',
      ],
    },
  }),
)

/**
 * The project's vitest config for mutation runs (`npm run test:mutation`): the unit and integration
 * tiers, and of the slow tier the files that run the library in the test process. Files that run it
 * in child processes (where no mutant is active) or take minutes per run are left out.
 */
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config'
import project from './vitest.config.js'

const tiers = (project.test?.projects ?? []) as TestProjectInlineConfiguration[]
const tier = (name: string) => {
  const found = tiers.find((t) => t.test?.name === name)
  if (!found) throw new Error(`vitest.config.ts has no '${name}' project`)
  return found
}
const slow = tier('slow')
const integration = tier('integration')
/** Integration files whose library code runs in child processes. */
const childProcesses = ['test/aws/bundle.test.ts', 'test/cli/local-server.test.ts']

export default defineConfig({
  test: {
    ...project.test,
    projects: [
      tier('unit'),
      {
        ...integration,
        test: { ...integration.test, exclude: [...(integration.test?.exclude ?? []), ...childProcesses] },
      },
      {
        ...slow,
        test: {
          ...slow.test,
          name: 'slow-in-process',
          include: ['test/session/concurrency.test.ts', 'test/session/edit-sequences.property.test.ts'],
        },
      },
    ],
  },
})

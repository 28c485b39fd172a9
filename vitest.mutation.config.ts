/**
 * The project's vitest config for mutation runs (`npm run test:mutation`): the unit and integration
 * tiers as they are, and of the slow tier only the files that run the library in the test process
 * (the others run it in child processes, where no mutant is active, or take minutes per run).
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

export default defineConfig({
  test: {
    ...project.test,
    projects: [
      tier('unit'),
      tier('integration'),
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

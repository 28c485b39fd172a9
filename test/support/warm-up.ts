/**
 * Runs a first call that may meet a short operation deadline on a loaded machine (the test
 * server serves one command at a time for every test file running in parallel): retried while it
 * times out, so what a test measures afterwards is the fault it injects, not the machine's load.
 */
import { DatabaseUnavailableError } from '../../src/errors.js'

export async function warmUp<T>(call: () => Promise<T>, attempts = 20): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call()
    } catch (error) {
      const timedOut = error instanceof DatabaseUnavailableError && error.reason === 'timeout'
      if (!timedOut || attempt >= attempts) throw error
    }
  }
}

/**
 * MongoDB for the examples: `MONGODB_URI` when set, otherwise a local FerretDB built and started
 * by the same launcher as the tests (needs Go the first time; the binary is cached in `.cache/`).
 */
import { GoToolchainMissingError, startFerretDB } from '../../tools/ferretdb/launcher.js'

export { GoToolchainMissingError }

/** A MongoDB-wire server to talk to. */
export interface ExampleMongo {
  uri: string
  /** Where it came from: the environment, or a FerretDB started for this process. */
  source: 'MONGODB_URI' | 'local FerretDB'
  /** Stops the local server (a no-op for `MONGODB_URI`). */
  stop(): Promise<void>
}

/**
 * Resolves the server. Throws {@link GoToolchainMissingError} when neither `MONGODB_URI` nor Go
 * is available.
 */
export async function resolveMongo(
  options: { env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {},
): Promise<ExampleMongo> {
  const env = options.env ?? process.env
  if (env.MONGODB_URI) return { uri: env.MONGODB_URI, source: 'MONGODB_URI', stop: async () => {} }
  const server = await startFerretDB(options.log ? { log: options.log } : {})
  return { uri: server.uri, source: 'local FerretDB', stop: () => server.stop() }
}

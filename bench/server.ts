/**
 * The server the bench talks to: MONGODB_URI when set; otherwise FerretDB 1.24 started like the
 * tests do, over PostgreSQL when one answers (FERRETDB_POSTGRESQL_URL, default the local server
 * below), else over SQLite.
 */
import { startFerretDB, type RunningFerretDB } from '../tools/ferretdb/launcher.js'

/** Trust-auth PostgreSQL on this machine; the database is created by the FerretDB wrapper when missing. */
export const DEFAULT_POSTGRESQL_URL = 'postgres://postgres@127.0.0.1:5432/ferretdb_bench'

export interface BenchServer {
  uri: string
  /** What it is, for the report, without credentials. */
  engine: string
  /** `mongodb` (MONGODB_URI), `ferretdb-postgresql` or `ferretdb-sqlite`. */
  kind: 'mongodb' | 'ferretdb-postgresql' | 'ferretdb-sqlite'
  stop(): Promise<void>
}

/** `postgres://user@host:port/db` with any password removed. */
function redact(url: string): string {
  try {
    const parsed = new URL(url)
    parsed.password = ''
    return parsed.toString()
  } catch {
    return '(unparsable URL)'
  }
}

export async function startBenchServer(log: (line: string) => void): Promise<BenchServer> {
  const external = process.env.MONGODB_URI
  if (external) {
    return { uri: external, engine: 'MONGODB_URI', kind: 'mongodb', stop: async () => {} }
  }
  const postgresqlUrl = process.env.FERRETDB_POSTGRESQL_URL ?? DEFAULT_POSTGRESQL_URL
  if (postgresqlUrl !== '' && postgresqlUrl !== 'off') {
    try {
      const ferret: RunningFerretDB = await startFerretDB({ log, postgresqlUrl })
      return {
        uri: ferret.uri,
        engine: `FerretDB 1.24.2 over PostgreSQL (${redact(postgresqlUrl)})`,
        kind: 'ferretdb-postgresql',
        stop: () => ferret.stop(),
      }
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error)
      log(`PostgreSQL not usable (${reason}); falling back to SQLite`)
    }
  }
  const ferret = await startFerretDB({ log })
  return {
    uri: ferret.uri,
    engine: 'FerretDB 1.24.2 over SQLite (temporary directory)',
    kind: 'ferretdb-sqlite',
    stop: () => ferret.stop(),
  }
}

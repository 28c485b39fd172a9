/** `viewer`: a local, read-only web app to browse sessions, read transcripts and see usage charts. */
import { stringOption, intOption, type Command } from '../command.js'
import { UsageError, messageOf } from '../errors.js'
import { generateToken, isLoopbackHost } from '../viewer/auth.js'
import { startViewer } from '../viewer/server.js'
import { declaredMetadataFields } from './sessions-list.js'

export const viewerCommand: Command = {
  path: ['viewer'],
  summary: 'Serve a local read-only web viewer: sessions, transcripts, feedback, usage charts',
  description:
    'Binds 127.0.0.1 by default. On any other address every request needs the access token: pass\n' +
    '--token or set MSM_VIEWER_TOKEN, or one is generated and printed. Runs until Ctrl-C.',
  options: {
    port: { type: 'string', value: '<port>', description: 'TCP port (default 8080; 0 picks a free one)' },
    host: { type: 'string', value: '<address>', description: 'address to bind (default 127.0.0.1)' },
    token: {
      type: 'string',
      value: '<token>',
      description: 'access token (default: $MSM_VIEWER_TOKEN, else generated when not on 127.0.0.1)',
    },
    'metadata-fields': {
      type: 'string',
      value: '<a,b>',
      description: 'metadata fields offered as filters (default: read from the catalogue indexes)',
    },
  },
  examples: [
    'mongodb-session-manager viewer --db strands_sessions',
    'mongodb-session-manager viewer --host 0.0.0.0 --port 9000   # prints a URL with a token',
  ],
  async run({ values, out, env, connect, signal }) {
    const port = intOption(values, 'port', 8080, 0, 65_535)
    const host = stringOption(values, 'host') ?? '127.0.0.1'
    const given = stringOption(values, 'token') ?? (env.MSM_VIEWER_TOKEN || undefined)
    if (given !== undefined && given.length < 16) throw new UsageError('--token must be at least 16 characters')
    const token = given ?? (isLoopbackHost(host) ? null : generateToken())
    const fieldsOption = stringOption(values, 'metadata-fields')
    const { collections, databaseName, redactedUri } = await connect()
    const metadataFields =
      fieldsOption !== undefined
        ? fieldsOption
            .split(',')
            .map((f) => f.trim())
            .filter(Boolean)
        : await declaredMetadataFields(collections)
    let viewer
    try {
      viewer = await startViewer({
        collections,
        host,
        port,
        token,
        metadataFields,
        onError: (error) => out.warn(`viewer request failed: ${messageOf(error)}`),
      })
    } catch (error) {
      throw new UsageError(`cannot serve on ${host}:${port}: ${messageOf(error)}`)
    }
    // The generated token is printed once, in the URL to open; a given one is not repeated.
    const openUrl = token !== null && given === undefined ? `${viewer.url}?token=${token}` : viewer.url
    if (out.json) out.printJson({ url: openUrl, database: databaseName, tokenRequired: token !== null })
    else {
      out.line(`viewer of ${redactedUri} database ${databaseName} (read-only)`)
      out.line(`open ${openUrl}${token !== null && given !== undefined ? '  (with your access token)' : ''}`)
      out.line('Ctrl-C to stop')
    }
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve()
      else signal.addEventListener('abort', () => resolve(), { once: true })
    })
    await viewer.close()
  },
}

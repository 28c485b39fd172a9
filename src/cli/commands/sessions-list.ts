/** `sessions list`: the session catalogue, newest first, with filters and keyset paging. */
import { listSessions, type MetadataFilterValue } from '../../features/catalogue.js'
import { shortenText } from '../../storage/catalogue-text.js'
import { unescapeKey } from '../../storage/encoding.js'
import type { SessionCollections } from '../../storage/collections.js'
import { dateOption, intOption, listOption, stringOption, type Command } from '../command.js'
import { UsageError } from '../errors.js'
import { compactJson, formatDate } from '../output.js'
import { withDisplayMetadata } from '../queries/summaries.js'

/**
 * Metadata fields declared by the application: those with a catalogue index (`metadataFields` on
 * the manager or factory creates one per field).
 */
export async function declaredMetadataFields(collections: SessionCollections): Promise<string[]> {
  const indexes = await collections.sessions
    .listIndexes()
    .toArray()
    .catch(() => [])
  const fields = new Set<string>()
  for (const index of indexes) {
    const first = Object.keys((index as { key?: Record<string, unknown> }).key ?? {})[0]
    if (first?.startsWith('metadata.'))
      fields.add(first.slice('metadata.'.length).split('.').map(unescapeKey).join('.'))
  }
  return [...fields]
}

/** Parses `key=value` (a string) or `key:=<json>` (a JSON number, boolean or null). */
export function parseMetadataFilter(items: string[]): Record<string, MetadataFilterValue> {
  const filter: Record<string, MetadataFilterValue> = {}
  for (const item of items) {
    const json = /^([^=:]+):=(.*)$/s.exec(item)
    const plain = /^([^=]+)=(.*)$/s.exec(item)
    if (json) {
      let value: unknown
      try {
        value = JSON.parse(json[2]!)
      } catch {
        throw new UsageError(`--metadata ${item}: the value after ':=' must be JSON (a number, true, false or null)`)
      }
      if (value !== null && typeof value !== 'number' && typeof value !== 'boolean') {
        throw new UsageError(`--metadata ${item}: ':=' takes a number, true, false or null; use key=value for strings`)
      }
      filter[json[1]!] = value
    } else if (plain && plain[1]!.length > 0) {
      filter[plain[1]!] = plain[2]!
    } else {
      throw new UsageError(`--metadata expects key=value or key:=<json>, got ${JSON.stringify(item)}`)
    }
  }
  return filter
}

export const sessionsList: Command = {
  path: ['sessions', 'list'],
  summary: 'List sessions, most recently updated first',
  description:
    'Filters combine with AND. --metadata filters only on declared metadata fields (those the application\n' +
    'declared with `metadataFields`, which have an index); other fields are refused rather than scanned.',
  options: {
    app: { type: 'string', value: '<name>', description: 'only sessions of this application name' },
    user: { type: 'string', value: '<id>', description: "only sessions of this user (the manager's userId)" },
    'updated-after': { type: 'string', value: '<date>', description: 'updated after (ISO date, or 30m/12h/7d ago)' },
    'updated-before': { type: 'string', value: '<date>', description: 'updated before (ISO date, or 30m/12h/7d ago)' },
    metadata: {
      type: 'string',
      multiple: true,
      value: '<key=value>',
      description: 'declared metadata field equals value (key:=<json> for numbers, booleans, null)',
    },
    'metadata-fields': {
      type: 'string',
      value: '<a,b>',
      description: 'declared metadata fields (default: read from the catalogue indexes)',
    },
    limit: { type: 'string', value: '<n>', description: 'page size, 1-500 (default 20)' },
    cursor: { type: 'string', value: '<cursor>', description: 'continue after a previous page (printed as "next")' },
  },
  examples: [
    'mongodb-session-manager sessions list --app support-bot --updated-after 7d',
    'mongodb-session-manager sessions list --user user-42',
    'mongodb-session-manager sessions list --metadata status=escalated --metadata priority:=1 --json',
  ],
  async run({ values, out, connect }) {
    const limit = intOption(values, 'limit', 20, 1, 500)
    const metadata = parseMetadataFilter(listOption(values, 'metadata'))
    const updatedAfter = dateOption(values, 'updated-after')
    const updatedBefore = dateOption(values, 'updated-before')
    const app = stringOption(values, 'app')
    const user = stringOption(values, 'user')
    const cursor = stringOption(values, 'cursor')
    const declaredOption = stringOption(values, 'metadata-fields')
    const { collections } = await connect()
    const metadataFields =
      declaredOption !== undefined
        ? declaredOption
            .split(',')
            .map((f) => f.trim())
            .filter(Boolean)
        : Object.keys(metadata).length > 0
          ? await declaredMetadataFields(collections)
          : []
    const listed = await listSessions(
      collections,
      {
        limit,
        ...(app !== undefined && { applicationName: app }),
        ...(user !== undefined && { userId: user }),
        ...(Object.keys(metadata).length > 0 && { metadata }),
        ...(updatedAfter && { updatedAfter }),
        ...(updatedBefore && { updatedBefore }),
        ...(cursor !== undefined && { cursor }),
      },
      { metadataFields },
    )
    const page = { ...listed, items: withDisplayMetadata(listed.items) }
    const s = out.style
    out.page(page, {
      empty: 'no sessions match',
      headers: ['SESSION', 'APPLICATION', 'UPDATED', 'USER', 'TITLE', 'PREVIEW', 'MSGS', 'FEEDBACK ↑/↓/·', 'METADATA'],
      row: (item) => [
        item.sessionId,
        item.applicationName ?? s.dim('-'),
        formatDate(item.updatedAt),
        item.userId ?? s.dim('-'),
        item.title === null ? s.dim('-') : shortenText(item.title, 30),
        item.preview === null ? s.dim('-') : shortenText(item.preview, 40),
        String(item.messageCount),
        `${s.green(String(item.feedbackCounts.up))}/${s.red(String(item.feedbackCounts.down))}/${item.feedbackCounts.neutral}`,
        Object.keys(item.metadata).length > 0 ? compactJson(item.metadata, 50) : s.dim('{}'),
      ],
    })
  },
}

/**
 * Option objects of the hook factories are checked key by key: an unknown key would otherwise be
 * ignored silently (a misspelt topic, a hook that never notifies). Snake_case spellings of known
 * keys — what code ported from the Python version passes — get the camelCase name in the message.
 */
import { ConfigurationError } from '../errors.js'

/** Option names whose Python spelling is not just the snake_case form of the TypeScript one. */
const RENAMED: Readonly<Record<string, string>> = { api_gateway_endpoint: 'endpoint' }

/** Lowercase without separators: `topic_arn_bad`, `topicArnBad` and `TOPIC-ARN-BAD` all compare equal. */
function normalise(key: string): string {
  return key.toLowerCase().replace(/[_-]/g, '')
}

/**
 * Throws a {@link ConfigurationError} unless `options` is an object whose own keys are all in `known`
 * (a record with every option name as a key, so the list cannot drift from the options type).
 */
export function checkOptionKeys(options: unknown, known: Readonly<Record<string, true>>, factory: string): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ConfigurationError(`${factory}: options must be an object`)
  }
  const names = Object.keys(known)
  for (const key of Object.keys(options)) {
    if (Object.hasOwn(known, key)) continue
    const suggestion = RENAMED[key] ?? names.find((name) => normalise(name) === normalise(key))
    const hint = suggestion ? `did you mean '${suggestion}'?` : `known options: ${names.join(', ')}`
    throw new ConfigurationError(`${factory}: unknown option '${key}' (${hint})`)
  }
}

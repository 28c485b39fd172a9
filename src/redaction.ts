/**
 * Keeping credentials out of every text the library produces: log lines, error messages, CLI output.
 *
 * A connection string carries secrets in two places: the user info (`user:password@`) and query
 * options (`tlsCertificateKeyFilePassword`, `authMechanismProperties=AWS_SESSION_TOKEN:…`,
 * `proxyPassword`…). {@link redactUri} keeps the scheme, the hosts, the database and the values of
 * options known to be harmless; every other value becomes `***`. It errs on the side of hiding:
 * an option it does not know loses its name and value, and a URI with an `@` in a query value loses
 * its hosts too.
 *
 * Messages from the driver can quote the connection string, whole or in pieces (a parse error quotes
 * the URL, or one option's value). {@link redactText} replaces every connection string found in a
 * text, then every secret value of the connection strings the library was given
 * ({@link rememberSecretsOf}), wherever it appears.
 */

const MASK = '***'

/**
 * Options whose values are shown. Anything else (passwords, tokens, `authMechanismProperties`
 * values, the proxy user, TLS key material, options this list does not know) is masked.
 */
const VISIBLE_VALUES = new Set(
  [
    'appName',
    'authMechanism',
    'authSource',
    'autoSelectFamily',
    'autoSelectFamilyAttemptTimeout',
    'compressors',
    'connectTimeoutMS',
    'directConnection',
    'enableOverloadRetargeting',
    'family',
    'heartbeatFrequencyMS',
    'j',
    'journal',
    'loadBalanced',
    'localThresholdMS',
    'maxAdaptiveRetries',
    'maxConnecting',
    'maxIdleTimeMS',
    'maxPoolSize',
    'maxStalenessSeconds',
    'minHeartbeatFrequencyMS',
    'minPoolSize',
    'proxyHost',
    'proxyPort',
    'readConcernLevel',
    'readPreference',
    'readPreferenceTags',
    'replicaSet',
    'retryReads',
    'retryWrites',
    'serverMonitoringMode',
    'serverSelectionTimeoutMS',
    'socketTimeoutMS',
    'srvMaxHosts',
    'srvServiceName',
    'ssl',
    'timeoutMS',
    'tls',
    'tlsAllowInvalidCertificates',
    'tlsAllowInvalidHostnames',
    'tlsCAFile',
    'tlsCRLFile',
    'tlsCertificateKeyFile',
    'tlsInsecure',
    'uuidRepresentation',
    'w',
    'waitQueueTimeoutMS',
    'wtimeout',
    'wtimeoutMS',
    'zlibCompressionLevel',
  ].map((name) => name.toLowerCase()),
)

/** Options whose names are shown with a masked value (known to the driver, or its legacy names). */
const MASKED_VALUES = new Set(
  [
    'authMechanismProperties',
    'gssapiServiceName',
    'proxyPassword',
    'proxyUsername',
    'sslCA',
    'sslCert',
    'sslKey',
    'sslPass',
    'sslPEMKeyFile',
    'sslPEMKeyPassword',
    'sslValidate',
    'tlsCertificateFile',
    'tlsCertificateKeyFilePassword',
  ].map((name) => name.toLowerCase()),
)

interface ParsedUri {
  /** `mongodb://`, or '' when the text has no scheme. */
  scheme: string
  /** Everything before the last `@` of the authority (user, password), or undefined. */
  userInfo: string | undefined
  /** Hosts and path (`/database`), untouched. */
  hostsAndPath: string
  /** `key=value` pairs as written (undecoded). */
  options: { key: string; value: string | undefined }[]
  hasQuery: boolean
  fragment: string | undefined
}

function parse(uri: string): ParsedUri {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(uri)?.[0] ?? ''
  let rest = uri.slice(scheme.length)
  // The last `@` ends the user info: a password typed without percent-encoding may itself contain
  // `@`, `/`, `?` or `#`, and hiding too much is better than showing part of it.
  const at = rest.lastIndexOf('@')
  const userInfo = at >= 0 ? rest.slice(0, at) : undefined
  rest = rest.slice(at + 1)
  const hash = rest.indexOf('#')
  const fragment = hash >= 0 ? rest.slice(hash + 1) : undefined
  if (hash >= 0) rest = rest.slice(0, hash)
  const question = rest.indexOf('?')
  const hostsAndPath = question >= 0 ? rest.slice(0, question) : rest
  const query = question >= 0 ? rest.slice(question + 1) : ''
  const options = query
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const eq = pair.indexOf('=')
      return eq >= 0 ? { key: pair.slice(0, eq), value: pair.slice(eq + 1) } : { key: pair, value: undefined }
    })
  return { scheme, userInfo, hostsAndPath, options, hasQuery: question >= 0, fragment }
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '))
  } catch {
    return text
  }
}

/** `AWS_SESSION_TOKEN:abc,SERVICE_NAME:x` → `AWS_SESSION_TOKEN:***,SERVICE_NAME:***`. */
function maskProperties(value: string): string {
  return value
    .split(',')
    .map((pair) => {
      const colon = pair.indexOf(':')
      const name = colon >= 0 ? pair.slice(0, colon) : ''
      return /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name) ? `${name}:${MASK}` : MASK
    })
    .join(',')
}

function redactOption({ key, value }: { key: string; value: string | undefined }): string {
  const name = key.toLowerCase()
  if (value === undefined) return VISIBLE_VALUES.has(name) || MASKED_VALUES.has(name) ? key : MASK
  if (VISIBLE_VALUES.has(name)) return `${key}=${value}`
  if (name === 'authmechanismproperties') return `${key}=${maskProperties(value)}`
  if (MASKED_VALUES.has(name)) return `${key}=${MASK}`
  return `${MASK}=${MASK}`
}

/**
 * A connection string safe to print: user info and every option value that may be a secret are
 * replaced by `***`; scheme, hosts and database stay visible.
 *
 * @example redactUri('mongodb://app:pw@db.example.net/sessions?tls=true&tlsCertificateKeyFilePassword=x')
 * // → 'mongodb://***@db.example.net/sessions?tls=true&tlsCertificateKeyFilePassword=***'
 */
export function redactUri(uri: string): string {
  const parsed = parse(uri)
  const userInfo = parsed.userInfo === undefined ? '' : `${MASK}@`
  const query = parsed.hasQuery ? `?${parsed.options.map(redactOption).join('&')}` : ''
  const fragment = parsed.fragment === undefined ? '' : `#${MASK}`
  return `${parsed.scheme}${userInfo}${parsed.hostsAndPath}${query}${fragment}`
}

/** `authMechanismProperties` entries that name a service or an environment rather than hold a secret. */
const PLAIN_PROPERTIES = new Set([
  'ALLOWED_HOSTS',
  'CANONICALIZE_HOST_NAME',
  'ENVIRONMENT',
  'SERVICE_HOST',
  'SERVICE_NAME',
  'SERVICE_REALM',
  'TOKEN_RESOURCE',
])

/** Shorter values are not looked for in free text: masking them everywhere would garble messages. */
const MIN_SECRET_LENGTH = 6

/**
 * The secret values of a connection string, as written and percent-decoded: the password (or the
 * whole user info when it has no `:`), and the values of the options {@link redactUri} masks.
 */
export function secretsOf(uri: string): string[] {
  const parsed = parse(uri)
  const found: string[] = []
  if (parsed.userInfo !== undefined) {
    const colon = parsed.userInfo.indexOf(':')
    found.push(colon >= 0 ? parsed.userInfo.slice(colon + 1) : parsed.userInfo)
  }
  for (const { key, value } of parsed.options) {
    const name = key.toLowerCase()
    if (value === undefined || VISIBLE_VALUES.has(name)) continue
    if (name !== 'authmechanismproperties') {
      found.push(value)
      continue
    }
    for (const part of value.split(',')) {
      const colon = part.indexOf(':')
      if (colon >= 0 && !PLAIN_PROPERTIES.has(decode(part.slice(0, colon)))) found.push(part.slice(colon + 1))
    }
  }
  if (parsed.fragment !== undefined) found.push(parsed.fragment)
  const all = found.flatMap((s) => [s, decode(s)]).filter((s) => s.length >= MIN_SECRET_LENGTH)
  // Longest first, so a secret that contains another is replaced whole.
  return [...new Set(all)].sort((a, b) => b.length - a.length)
}

/** Remembered secrets, newest last; bounded so a process creating many clients does not grow it forever. */
const remembered: string[] = []
const REMEMBER_LIMIT = 200

/**
 * Remembers the secrets of a connection string the library was given, so that {@link redactText}
 * masks them even when a message quotes one alone (a parse error quoting an option value).
 */
export function rememberSecretsOf(uri: string): void {
  for (const secret of secretsOf(uri)) {
    const index = remembered.indexOf(secret)
    if (index >= 0) remembered.splice(index, 1)
    remembered.push(secret)
  }
  if (remembered.length > REMEMBER_LIMIT) remembered.splice(0, remembered.length - REMEMBER_LIMIT)
  remembered.sort((a, b) => b.length - a.length)
}

/**
 * A connection string inside free text: up to whitespace or a character a URI cannot contain
 * (`'` can, so a single-quoted URI takes its closing quote along, which does no harm).
 */
const URI_IN_TEXT = /mongodb(?:\+srv)?:\/\/[^\s"`<>]*/gi

/**
 * `text` with credentials removed: the secrets of `uri` (when given) and of every remembered
 * connection string, then every connection string it quotes, redacted with {@link redactUri}.
 */
export function redactText(text: string, uri?: string): string {
  let result = text
  const secrets = uri === undefined ? remembered : [...secretsOf(uri), ...remembered]
  for (const secret of secrets) if (result.includes(secret)) result = result.split(secret).join(MASK)
  return result.replace(URI_IN_TEXT, (match) => redactUri(match))
}

/** Message of an unknown thrown value (`Name: message`), with credentials removed. */
export function describeError(error: unknown, uri?: string): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
  return redactText(text, uri)
}

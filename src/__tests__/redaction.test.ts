/**
 * Connection strings lose every secret and keep their hosts and database, whatever the secret is
 * and wherever it sits (user info, secret-bearing options, options named like a secret).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { describeError, redactText, redactUri, rememberSecretsOf } from '../redaction.js'

const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]$/)
const hostName = fc.tuple(label, fc.constantFrom('', '.example.net', '.internal', '.mongodb.net'))
const host = fc
  .tuple(hostName, fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }))
  .map(([[name, domain], port]) => `${name}${domain}${port === undefined ? '' : `:${port}`}`)
const database = fc.option(fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/), { nil: undefined })
const safeOptions = fc.subarray(['tls=true', 'retryWrites=false', 'authSource=admin', 'replicaSet=rs0', 'w=majority'])

/** Where a secret can be written in a connection string. */
type Placement = (secret: string) => { userInfo?: string; option?: string }
const placements: Record<string, Placement> = {
  password: (s) => ({ userInfo: `app-user:${s}` }),
  'user info without a password': (s) => ({ userInfo: s }),
  tlsCertificateKeyFilePassword: (s) => ({ option: `tlsCertificateKeyFilePassword=${s}` }),
  sslPEMKeyPassword: (s) => ({ option: `sslPEMKeyPassword=${s}` }),
  proxyPassword: (s) => ({ option: `proxyHost=proxy.internal&proxyUsername=bob&proxyPassword=${s}` }),
  AWS_SESSION_TOKEN: (s) => ({
    option: `authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:${s}`,
  }),
  'second authMechanismProperties value': (s) => ({
    option: `authMechanismProperties=SERVICE_NAME:mongodb,AWS_SESSION_TOKEN:${s}`,
  }),
}

/** An option this code has never heard of whose name says it holds a secret. */
const secretNamedOption = fc
  .tuple(
    fc.stringMatching(/^[a-z]{0,6}$/),
    fc.constantFrom('password', 'Password', 'secret', 'Secret', 'token', 'Token', 'KeyPassword', 'apiKey'),
    fc.stringMatching(/^[A-Za-z]{0,6}$/),
  )
  .map(([before, word, after]) => `${before}${word}${after}`)

const placement: fc.Arbitrary<Placement> = fc.oneof(
  fc.constantFrom(...Object.keys(placements)).map((name) => placements[name]!),
  secretNamedOption.map((name): Placement => (s) => ({ option: `${name}=${s}` })),
)

const uriShape = fc.record({
  srv: fc.boolean(),
  hosts: fc.array(host, { minLength: 1, maxLength: 3 }),
  database,
  safe: safeOptions,
  place: placement,
})

type Shape = typeof uriShape extends fc.Arbitrary<infer T> ? T : never

/** The connection string of `shape` with `secret` (percent-encoded, as a valid URI needs) in its place. */
function build(shape: Shape, secret: string): string {
  const { userInfo, option } = shape.place(encodeURIComponent(secret))
  const hosts = shape.srv ? shape.hosts[0]!.replace(/:\d+$/, '') : shape.hosts.join(',')
  const options = [...shape.safe, ...(option === undefined ? [] : [option])]
  return (
    `${shape.srv ? 'mongodb+srv' : 'mongodb'}://${userInfo === undefined ? '' : `${userInfo}@`}${hosts}/` +
    `${shape.database ?? ''}${options.length > 0 ? `?${options.join('&')}` : ''}`
  )
}

const secret = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 })
const PLACEHOLDER = 'PLACEHOLDER-SECRET-VALUE'

function expectHostsAndDatabase(text: string, shape: Shape): void {
  for (const h of shape.srv ? shape.hosts.slice(0, 1) : shape.hosts) expect(text).toContain(h.replace(/:\d+$/, ''))
  if (shape.database) expect(text).toContain(`/${shape.database}`)
}

describe('redactUri', () => {
  it('output does not depend on the secret, never contains it, and keeps hosts and database', () => {
    fc.assert(
      fc.property(uriShape, secret, (shape, value) => {
        const redacted = redactUri(build(shape, value))
        // Same output for any secret: nothing of it survives, not even its length.
        expect(redacted).toBe(redactUri(build(shape, PLACEHOLDER)))
        expect(redacted).not.toContain(PLACEHOLDER)
        expectHostsAndDatabase(redacted, shape)
      }),
      { numRuns: 500 },
    )
  })

  it('keeps the values of harmless options', () => {
    expect(
      redactUri('mongodb://u:pw@a.example.net:27017,b.example.net/sessions?tls=true&replicaSet=rs0&appName=chat'),
    ).toBe('mongodb://***@a.example.net:27017,b.example.net/sessions?tls=true&replicaSet=rs0&appName=chat')
    expect(redactUri('mongodb://h/?authMechanismProperties=AWS_SESSION_TOKEN:abc,SERVICE_NAME:x')).toBe(
      'mongodb://h/?authMechanismProperties=AWS_SESSION_TOKEN:***,SERVICE_NAME:***',
    )
  })

  it.each([
    ['an unescaped @ in the password', 'mongodb://u:p@ss-W0RD@host:27017/db', 'ss-W0RD'],
    ['an unescaped / in the password', 'mongodb://u:pa/ss-W0RD@host:27017/db', 'ss-W0RD'],
    ['an unescaped ? in the password', 'mongodb://u:pa?ss-W0RD@host:27017/db', 'ss-W0RD'],
    ['an unescaped # in the password', 'mongodb://u:pa#ss-W0RD@host:27017/db', 'ss-W0RD'],
    ['an unescaped # in an option value', 'mongodb://host/db?tlsCertificateKeyFilePassword=ab#ss-W0RD', 'ss-W0RD'],
    ['an option with no value', 'mongodb://host/db?ss-W0RD', 'ss-W0RD'],
    ['an unknown option', 'mongodb://host/db?myVaultRef=ss-W0RD', 'ss-W0RD'],
  ])('hides the secret of a malformed connection string: %s', (_, uri, hidden) => {
    const redacted = redactUri(uri)
    expect(redacted).not.toContain(hidden)
    expect(redacted).toContain('host')
  })
})

describe('describeError and redactText', () => {
  it('redact connection strings quoted in error messages', () => {
    fc.assert(
      fc.property(
        uriShape,
        secret,
        fc.constantFrom(
          (u: string) => `Invalid URL: ${u}`,
          (u: string) => `cannot connect to ${u}: connect ECONNREFUSED`,
          (u: string) => `failed ("${u}")`,
        ),
        (shape, value, message) => {
          const text = describeError(new TypeError(message(build(shape, value))))
          expect(text).toBe(describeError(new TypeError(message(build(shape, PLACEHOLDER)))))
          expect(text).not.toContain(PLACEHOLDER)
          expect(text).toMatch(/^TypeError: /)
          expectHostsAndDatabase(text, shape)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('masks a secret of the given or a remembered connection string quoted on its own', () => {
    const uri = 'mongodb://app:Pa55-w0rd!@db.internal/?proxyHost=p&proxyPassword=Pr0xy-Pa55'
    expect(describeError(new Error('password Pa55-w0rd! rejected'), uri)).toBe('Error: password *** rejected')
    expect(redactText('proxy said Pr0xy-Pa55')).toBe('proxy said Pr0xy-Pa55')
    rememberSecretsOf(uri)
    expect(redactText('proxy said Pr0xy-Pa55')).toBe('proxy said ***')
    expect(redactText('a mongodb:// scheme and retryWrites=true stay readable')).toBe(
      'a mongodb:// scheme and retryWrites=true stay readable',
    )
  })
})

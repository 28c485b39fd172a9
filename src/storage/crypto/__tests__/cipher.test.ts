import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { Binary, BSON } from 'mongodb'
import { describe, expect, it } from 'vitest'
import { ConfigurationError, DecryptionError } from '../../../errors.js'
import { encodeValue } from '../../encoding.js'
import { isSealed, open, seal, SEALED_SUBTYPE } from '../cipher.js'
import { createLocalKeyProvider } from '../key-provider.js'
import { openMetadata, sealMetadataValue } from '../sealed-metadata.js'
import { thrownBy } from '../../../../test/support/thrown.js'

const key = randomBytes(32)
const here = { sessionId: 's-1', place: 'messages/agent/0/content' }

describe('seal / open', () => {
  it('round-trips any stored value exactly, and the ciphertext holds none of its text', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ minLength: 8 }), (value, marker) => {
        const stored = encodeValue({ value, marker })
        const sealed = seal(key, stored, here)
        expect(isSealed(sealed)).toBe(true)
        expect(open(key, sealed, here)).toEqual(stored)
        expect(Buffer.from(sealed.buffer).includes(Buffer.from(marker, 'utf8'))).toBe(false)
      }),
      { numRuns: 200 },
    )
  })

  it('keeps BSON types (media bytes, dates) as an unencrypted read gives them', () => {
    const value = [{ image: { source: { bytes: new Binary(Buffer.from([1, 2, 3])) } } }, { at: new Date(5) }]
    expect(open(key, seal(key, value, here), here)).toEqual(value)
  })

  it('adds a fixed 29 bytes of IV, tag and version to the value', () => {
    const value = { text: 'hello' }
    const plain = BSON.serialize({ v: value }).length
    expect(seal(key, value, here).buffer.length).toBe(plain + 29)
  })

  it('uses a fresh IV each time: the same value never gives the same ciphertext', () => {
    const a = Buffer.from(seal(key, 'same', here).buffer)
    const b = Buffer.from(seal(key, 'same', here).buffer)
    expect(a.subarray(1, 13).equals(b.subarray(1, 13))).toBe(false)
  })

  it('gives back values that are not sealed unchanged (data written before encryption)', () => {
    const plain = [{ text: 'old' }]
    expect(open(key, plain, here)).toBe(plain)
    const media = new Binary(Buffer.from('x'))
    expect(open(null, media, here)).toBe(media)
  })

  it('rejects every flipped bit, another session, another place and another key with DecryptionError', () => {
    const sealed = seal(key, { text: 'secret' }, here)
    const bytes = Buffer.from(sealed.buffer)
    fc.assert(
      fc.property(fc.integer({ min: 1, max: bytes.length * 8 - 1 }), (bit) => {
        const tampered = Buffer.from(bytes)
        tampered[bit >> 3]! ^= 1 << (bit & 7)
        expect(() => open(key, new Binary(tampered, SEALED_SUBTYPE), here)).toThrow(DecryptionError)
      }),
    )
    expect(() => open(key, sealed, { ...here, sessionId: 's-2' })).toThrow(DecryptionError)
    expect(() => open(key, sealed, { ...here, place: 'messages/agent/1/content' })).toThrow(DecryptionError)
    expect(() => open(randomBytes(32), sealed, here)).toThrow(DecryptionError)
    expect(() => open(null, sealed, here)).toThrow(/no data key/)
    expect(() => open(key, new Binary(Buffer.alloc(5), SEALED_SUBTYPE), here)).toThrow(DecryptionError)
  })

  it('says which session and which value could not be read, and why', () => {
    const sealed = seal(key, 'secret', here)
    const failure = (run: () => unknown) => thrownBy(run, DecryptionError)
    expect(failure(() => open(null, sealed, here)).message).toBe(
      "session 's-1': messages/agent/0/content is encrypted and no data key is available " +
        '(the key was destroyed, or encryption is not configured)',
    )
    const forged = failure(() => open(randomBytes(32), sealed, here))
    expect(forged.message).toBe(
      "session 's-1': messages/agent/0/content failed authentication (tampered, moved, or another key)",
    )
    expect(forged.cause).toBeInstanceOf(Error)
    expect(failure(() => open(key, new Binary(Buffer.of(1, 2), SEALED_SUBTYPE), here)).message).toBe(
      "session 's-1': messages/agent/0/content is not a readable ciphertext",
    )
    // The value itself never appears in a message.
    expect(forged.message).not.toContain('secret')
  })
})

describe('createLocalKeyProvider', () => {
  it('wraps a data key that only the same master key and session unwrap', async () => {
    const master = randomBytes(32)
    const provider = createLocalKeyProvider(master)
    const { plaintext, wrapped } = await provider.generateDataKey('s-1')
    expect(plaintext).toHaveLength(32)
    expect(wrapped.includes(plaintext)).toBe(false)
    expect(await provider.unwrapDataKey('s-1', wrapped)).toEqual(plaintext)
    // The same key given as hex or base64 text (e.g. an environment variable).
    expect(await createLocalKeyProvider(master.toString('hex')).unwrapDataKey('s-1', wrapped)).toEqual(plaintext)
    expect(await createLocalKeyProvider(master.toString('base64')).unwrapDataKey('s-1', wrapped)).toEqual(plaintext)
    await expect(provider.unwrapDataKey('s-2', wrapped)).rejects.toBeInstanceOf(DecryptionError)
    await expect(createLocalKeyProvider(randomBytes(32)).unwrapDataKey('s-1', wrapped)).rejects.toBeInstanceOf(
      DecryptionError,
    )
    const tampered = Buffer.from(wrapped)
    tampered[tampered.length - 1]! ^= 1
    await expect(provider.unwrapDataKey('s-1', tampered)).rejects.toBeInstanceOf(DecryptionError)
  })

  it('unwraps keys of a previous master key, and wraps under the current one', async () => {
    const old = randomBytes(32)
    const { plaintext, wrapped } = await createLocalKeyProvider(old).generateDataKey('s-1')
    const rotated = createLocalKeyProvider(randomBytes(32), { previousKeys: [old] })
    expect(await rotated.unwrapDataKey('s-1', wrapped)).toEqual(plaintext)
    const rewrapped = await rotated.wrapDataKey('s-1', plaintext)
    await expect(createLocalKeyProvider(old).unwrapDataKey('s-1', rewrapped)).rejects.toBeInstanceOf(DecryptionError)
  })

  it('accepts only 32-byte master keys', () => {
    expect(() => createLocalKeyProvider(randomBytes(16))).toThrow(ConfigurationError)
    expect(() => createLocalKeyProvider('too short')).toThrow(ConfigurationError)
    expect(() => createLocalKeyProvider(42 as never)).toThrow(ConfigurationError)
    // 64 hex digits and nothing else: a longer text is not read as its hex tail.
    expect(() => createLocalKeyProvider(`0${randomBytes(32).toString('hex')}`)).toThrow(ConfigurationError)
    expect(() => createLocalKeyProvider(`${randomBytes(32).toString('hex')}00`)).toThrow(ConfigurationError)
  })

  it('reads a key with the whitespace an environment variable or a secrets file adds around it', async () => {
    const master = randomBytes(32)
    const { plaintext, wrapped } = await createLocalKeyProvider(master).generateDataKey('s-1')
    for (const text of [`${master.toString('base64')}\n`, `  ${master.toString('hex')}\r\n`]) {
      expect(await createLocalKeyProvider(text).unwrapDataKey('s-1', wrapped)).toEqual(plaintext)
    }
  })

  it('says why a data key does not unwrap', async () => {
    const provider = createLocalKeyProvider(randomBytes(32))
    const { wrapped } = await provider.generateDataKey('s-1')
    await expect(createLocalKeyProvider(randomBytes(32)).unwrapDataKey('s-1', wrapped)).rejects.toThrow(
      "session 's-1': the data key was wrapped under an unknown master key",
    )
    await expect(provider.unwrapDataKey('s-1', wrapped.subarray(1))).rejects.toThrow(
      "session 's-1': the stored data key is not a local provider key",
    )
    const error = await provider.unwrapDataKey('s-2', wrapped).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DecryptionError)
    expect((error as DecryptionError).message).toBe("session 's-2': the data key failed authentication")
    expect(() => createLocalKeyProvider(randomBytes(16))).toThrow('masterKey must be 32 bytes (AES-256), got 16')
    expect(() => createLocalKeyProvider(randomBytes(32), { previousKeys: [randomBytes(8)] })).toThrow(
      'previousKeys[0] must be 32 bytes (AES-256), got 8',
    )
  })

  it("names itself 'local' (stored with each data key, and checked when one is unwrapped)", () => {
    expect(createLocalKeyProvider(randomBytes(32)).kind).toBe('local')
  })
})

describe('sealed metadata', () => {
  const sealing = { key, sessionId: 's-1', clearPaths: [['customer', 'tier']] }

  it('keeps a declared nested field in clear and seals its siblings', () => {
    const stored = sealMetadataValue(sealing, ['customer'], { tier: 'gold', name: 'Ada' }) as Record<string, unknown>
    expect(stored.tier).toBe('gold')
    expect(isSealed(stored.name)).toBe(true)
    expect(isSealed(sealMetadataValue(sealing, ['customer', 'name'], 'Ada'))).toBe(true)
    expect(isSealed(sealMetadataValue(sealing, ['customer'], 'a string where an object was declared'))).toBe(true)
    expect(openMetadata(key, 's-1', { customer: stored })).toEqual({ customer: { tier: 'gold', name: 'Ada' } })
  })

  it('binds each value to its path: a value moved to another key does not open', () => {
    const ab = sealMetadataValue(sealing, ['a', 'b'], 'x')
    expect(() => openMetadata(key, 's-1', { ab })).toThrow(DecryptionError)
    expect(() => openMetadata(key, 's-1', { a: { c: ab } })).toThrow(DecryptionError)
    expect(openMetadata(key, 's-1', { a: { b: ab } })).toEqual({ a: { b: 'x' } })
  })
})

/**
 * The storage boundary's error mapping and retries, with errors the driver really throws against
 * the test server (an unreachable port, a connection cut before the reply, a duplicate key), plus
 * driver error objects for what a test server cannot be made to produce on demand.
 */
import { createServer, type AddressInfo } from 'node:net'
import {
  MongoClient,
  MongoError,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoOperationTimeoutError,
  MongoServerError,
  MongoTopologyClosedError,
} from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  DatabaseUnavailableError,
  StorageOperationError,
  ValidationError,
  type MongoSessionError,
} from '../../src/errors.js'
import { mapDriverErrors, toLibraryError } from '../../src/storage/driver-errors.js'
import { isTransientError, withRetry } from '../../src/storage/retry.js'
import { startFaultProxy } from '../support/fault-proxy.js'
import { openTestDatabase, type TestDatabase } from '../support/mongo.js'

let t: TestDatabase
beforeAll(async () => {
  t = await openTestDatabase('msm_errors')
})
afterAll(async () => {
  await t.cleanup()
})

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

async function failure(operation: Promise<unknown>): Promise<MongoSessionError> {
  const error = await operation.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeDefined()
  return error as MongoSessionError
}

describe('toLibraryError with errors from a real driver and server', () => {
  it('an unreachable server is DatabaseUnavailableError (unreachable), retryable, without the credentials', async () => {
    const uri = `mongodb://app-user:s3cret-pw@127.0.0.1:${await closedPort()}/?directConnection=true`
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 300 })
    try {
      const error = await failure(mapDriverErrors("load session 'abc'", () => client.db('x').command({ ping: 1 })))
      expect(error).toBeInstanceOf(DatabaseUnavailableError)
      expect((error as DatabaseUnavailableError).reason).toBe('unreachable')
      expect(error.retryable).toBe(true)
      expect(error.code).toBe('MSM_UNAVAILABLE')
      expect(error.message).toMatch(/^load session 'abc': no MongoDB server could be reached \(/)
      expect(error.message).not.toContain('s3cret-pw')
      expect(error.cause).toBeInstanceOf(MongoError)
    } finally {
      await client.close()
    }
  })

  it('a connection cut before the reply is DatabaseUnavailableError (network)', async () => {
    const proxy = await startFaultProxy(t.uri)
    const client = await new MongoClient(proxy.uri, { serverSelectionTimeoutMS: 5_000, retryReads: false }).connect()
    try {
      proxy.dropNextReply('find')
      const error = await failure(mapDriverErrors('read', () => client.db(t.databaseName).collection('c').findOne({})))
      expect(error).toBeInstanceOf(DatabaseUnavailableError)
      expect((error as DatabaseUnavailableError).reason).toBe('network')
      expect(error.message).toMatch(/^read: the connection to MongoDB broke \(/)
      expect(isTransientError(error.cause)).toBe(true)
    } finally {
      await client.close()
      await proxy.close()
    }
  })

  it('a server error (duplicate key) is StorageOperationError, not retryable, with the cause', async () => {
    const collection = t.db.collection<{ _id: string }>('dup')
    await collection.insertOne({ _id: 'a' })
    const error = await failure(mapDriverErrors('insert thing', () => collection.insertOne({ _id: 'a' })))
    expect(error).toBeInstanceOf(StorageOperationError)
    expect(error.retryable).toBe(false)
    expect(error.message).toMatch(/^insert thing failed: /)
    expect((error.cause as MongoServerError).code).toBe(11000)
    expect(await mapDriverErrors('count', () => collection.countDocuments())).toBe(1)
  })
})

describe('toLibraryError classification', () => {
  const reasonOf = (error: unknown) => {
    const mapped = toLibraryError(error, 'op')
    return mapped instanceof DatabaseUnavailableError ? mapped.reason : mapped.constructor.name
  }

  it('timeouts: client-side deadlines and the server time-limit codes', () => {
    expect(reasonOf(new MongoOperationTimeoutError('deadline'))).toBe('timeout')
    expect(reasonOf(new MongoNetworkTimeoutError('socket timeout'))).toBe('timeout')
    expect(reasonOf(new MongoServerError({ message: 'MaxTimeMSExpired', code: 50 }))).toBe('timeout')
    expect(reasonOf(new MongoServerError({ message: 'ExceededTimeLimit', code: 262 }))).toBe('timeout')
    expect(reasonOf(new MongoServerError({ message: 'other', code: 51 }))).toBe('StorageOperationError')
    expect(toLibraryError(new MongoOperationTimeoutError('d'), 'save').message).toBe(
      'save: the MongoDB operation ran past its deadline (MongoOperationTimeoutError: d)',
    )
  })

  it('closed topologies, pool resets, wrapped causes and broken sockets', () => {
    expect(reasonOf(new MongoTopologyClosedError())).toBe('unreachable')
    const reset = new MongoError('pool cleared')
    reset.addErrorLabel('ResetPool')
    expect(reasonOf(reset)).toBe('network')
    expect(reasonOf(new Error('outer', { cause: new MongoNetworkError('inner') }))).toBe('network')
    expect(reasonOf(new Error('outer', { cause: new Error('plain') }))).toBe('StorageOperationError')
    const selfCaused = new Error('loop') as Error & { cause?: unknown }
    selfCaused.cause = selfCaused
    expect(reasonOf(selfCaused)).toBe('StorageOperationError')
    for (const code of ['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT']) {
      expect(reasonOf(Object.assign(new Error(code), { code }))).toBe('network')
    }
    expect(reasonOf(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe('StorageOperationError')
    expect(reasonOf(null)).toBe('StorageOperationError')
    expect(reasonOf('text')).toBe('StorageOperationError')
  })

  it("passes the library's own errors through, and marks transient driver errors retryable", () => {
    const own = new ValidationError('bad')
    expect(toLibraryError(own, 'op')).toBe(own)
    const retryable = new MongoServerError({ message: 'not primary', code: 10107 })
    retryable.addErrorLabel('RetryableWriteError')
    const mapped = toLibraryError(retryable, 'commit')
    expect(mapped).toBeInstanceOf(StorageOperationError)
    expect(mapped.retryable).toBe(true)
    expect(mapped.message).toBe('commit failed: MongoServerError: not primary')
    expect(mapped.cause).toBe(retryable)
  })
})

describe('retries', () => {
  it('isTransientError: network and selection errors, retryable labels, wrapped causes', () => {
    expect(isTransientError(new MongoNetworkError('x'))).toBe(true)
    for (const label of ['RetryableWriteError', 'TransientTransactionError', 'ResetPool']) {
      const error = new MongoError('x')
      error.addErrorLabel(label)
      expect(isTransientError(error), label).toBe(true)
    }
    const wrapper = new MongoError('bulk')
    wrapper.cause = new MongoNetworkError('inner')
    expect(isTransientError(wrapper)).toBe(true)
    const selfCaused = new MongoError('loop')
    selfCaused.cause = selfCaused
    expect(isTransientError(selfCaused)).toBe(false)
    expect(isTransientError(new MongoError('plain'))).toBe(false)
    expect(isTransientError(new Error('not a driver error'))).toBe(false)
  })

  it('withRetry retries transient errors up to the attempt limit, and never other errors', async () => {
    let calls = 0
    const flaky = async () => {
      calls++
      if (calls < 3) throw new MongoNetworkError('blip')
      return 'done'
    }
    expect(await withRetry('step', flaky, { baseDelayMs: 1 })).toBe('done')
    expect(calls).toBe(3)

    calls = 0
    const down = async () => {
      calls++
      throw new MongoNetworkError('down')
    }
    await expect(withRetry('step', down, { baseDelayMs: 1 })).rejects.toBeInstanceOf(MongoNetworkError)
    expect(calls).toBe(4)
    calls = 0
    await expect(withRetry('step', down, { attempts: 2, baseDelayMs: 1 })).rejects.toThrow('down')
    expect(calls).toBe(2)

    calls = 0
    const broken = async () => {
      calls++
      throw new Error('bug')
    }
    await expect(withRetry('step', broken, { baseDelayMs: 1 })).rejects.toThrow('bug')
    expect(calls).toBe(1)
  })
})

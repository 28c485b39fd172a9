/**
 * The public surface is deliberate: adding or removing a runtime export must show up here. Also
 * checks the package metadata consumers rely on (ESM, exports map, peer dependencies).
 */
import { readFileSync } from 'node:fs'
import { SessionManager } from '@strands-agents/sdk'
import { describe, expect, it } from 'vitest'
import * as api from '../../src/index.js'
import * as testing from '../../src/testing/index.js'
import * as aws from '../../src/aws/index.js'

describe('public API', () => {
  it('exports exactly these runtime values', () => {
    expect(Object.keys(api).sort()).toEqual([
      'ClosedError',
      'ConfigurationError',
      'DEFAULT_CLIENT_OPTIONS',
      'DEFAULT_DATABASE_NAME',
      'DatabaseUnavailableError',
      'DecryptionError',
      'DocumentTooLargeError',
      'LOGGER_NAMESPACE',
      'MAX_FEEDBACK_COMMENT_LENGTH',
      'MongoDBSessionManager',
      'MongoDBSessionManagerFactory',
      'MongoSessionError',
      'MongoStorage',
      'NotFoundError',
      'NotificationDispatcher',
      'SEARCH_MESSAGE_LIMIT',
      'SEARCH_MESSAGE_SESSIONS',
      'SEARCH_SESSION_WINDOW',
      'SEARCH_TEXT_MESSAGE_LIMIT',
      'SEARCH_TEXT_USER_SESSIONS',
      'SessionConflictError',
      'StorageOperationError',
      'ValidationError',
      'checkDeployment',
      'closeGlobalFactory',
      'configureLogger',
      'createLocalKeyProvider',
      'createMongoDBSessionManager',
      'createWebSocketConnectionRegistry',
      'deleteSessions',
      'detectCapabilities',
      'fromOutboxEntry',
      'getGlobalFactory',
      'initializeGlobalFactory',
      'listSessions',
      'logWrites',
      'pruneExpiredSessions',
      'recountFeedback',
      'relayPendingNotifications',
      'rotateMasterKey',
      'searchSessions',
      'startOutboxRelay',
      'toOutboxEntry',
    ])
    expect(Object.keys(testing).sort()).toEqual(['ScriptedModel'])
    // The AWS hooks, senders and wire formats: their own entry, so the root never loads an AWS package.
    expect(Object.keys(aws).sort()).toEqual(
      expect.arrayContaining([
        'createFeedbackSnsHook',
        'createMetadataSqsHook',
        'createMetadataWebSocketHook',
        'isFeedbackSnsHookAvailable',
        'isMetadataSqsHookAvailable',
        'isMetadataWebSocketHookAvailable',
        'buildMetadataEvent',
        'EVENT_ID_ATTRIBUTE',
      ]),
    )
    const shared = Object.keys(api).filter((name) => name in aws)
    expect(shared).toEqual(['createWebSocketConnectionRegistry'])
  })

  it('is a subclass of the SDK SessionManager, so Agent, Graph and Swarm accept it', () => {
    expect(Object.getPrototypeOf(api.MongoDBSessionManager)).toBe(SessionManager)
  })

  it('every thrown error class shares the base class and a stable code', () => {
    const errors = [
      new api.ValidationError('x'),
      new api.NotFoundError('agent', 'a'),
      new api.SessionConflictError('s', 'a', 'd'),
      new api.DocumentTooLargeError('m', 2, 1),
      new api.StorageOperationError('x'),
      new api.DatabaseUnavailableError('timeout', 'x'),
      new api.ConfigurationError('x'),
      new api.ClosedError('x'),
      new api.DecryptionError('x'),
    ]
    for (const error of errors) expect(error).toBeInstanceOf(api.MongoSessionError)
    // Only an unavailable database is worth retrying as is.
    expect(errors.map((e) => e.retryable)).toEqual([false, false, false, false, false, true, false, false, false])
    expect(errors.map((e) => e.code)).toEqual([
      'MSM_VALIDATION',
      'MSM_NOT_FOUND',
      'MSM_CONFLICT',
      'MSM_DOCUMENT_TOO_LARGE',
      'MSM_STORAGE',
      'MSM_UNAVAILABLE',
      'MSM_CONFIGURATION',
      'MSM_CLOSED',
      'MSM_DECRYPTION',
    ])
  })

  it('ships as ESM with types first in the exports map and the SDK as a peer', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
    expect(pkg.type).toBe('module')
    expect(Object.keys(pkg.exports['.'])[0]).toBe('types')
    expect(Object.keys(pkg.exports['./testing'])[0]).toBe('types')
    expect(Object.keys(pkg.exports['./aws'])[0]).toBe('types')
    expect(pkg.dependencies['@strands-agents/sdk']).toBeUndefined()
    expect(pkg.peerDependencies['@strands-agents/sdk']).toBeDefined()
    expect(pkg.peerDependencies.zod).toBeDefined()
    for (const client of ['client-sns', 'client-sqs', 'client-apigatewaymanagementapi', 'client-kms']) {
      expect(pkg.peerDependenciesMeta[`@aws-sdk/${client}`]).toEqual({ optional: true })
    }
    expect(pkg.engines.node).toBe('>=22')
  })
})

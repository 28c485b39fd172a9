/**
 * The public surface is deliberate: adding or removing a runtime export must show up here. Also
 * checks the package metadata consumers rely on (ESM, exports map, peer dependencies).
 */
import { readFileSync } from 'node:fs'
import { SessionManager } from '@strands-agents/sdk'
import { describe, expect, it } from 'vitest'
import * as api from '../../src/index.js'
import * as testing from '../../src/testing/index.js'

describe('public API', () => {
  it('exports exactly these runtime values', () => {
    expect(Object.keys(api).sort()).toEqual([
      'ClosedError',
      'ConfigurationError',
      'DEFAULT_CLIENT_OPTIONS',
      'DEFAULT_DATABASE_NAME',
      'DatabaseUnavailableError',
      'DocumentTooLargeError',
      'EVENT_ID_ATTRIBUTE',
      'LOGGER_NAMESPACE',
      'MAX_FEEDBACK_COMMENT_LENGTH',
      'MongoDBSessionManager',
      'MongoDBSessionManagerFactory',
      'MongoSessionError',
      'MongoStorage',
      'NotFoundError',
      'NotificationDispatcher',
      'SessionConflictError',
      'StorageOperationError',
      'ValidationError',
      'buildFeedbackMessage',
      'buildFeedbackSubject',
      'buildMetadataEvent',
      'closeGlobalFactory',
      'configureLogger',
      'createFeedbackSnsHook',
      'createMetadataSqsHook',
      'createMetadataWebSocketHook',
      'createMongoDBSessionManager',
      'createSnsSender',
      'createSqsSender',
      'createWebSocketConnectionRegistry',
      'createWebSocketSender',
      'deleteSessions',
      'detectCapabilities',
      'fromOutboxEntry',
      'getGlobalFactory',
      'initializeGlobalFactory',
      'isFeedbackSnsHookAvailable',
      'isMetadataSqsHookAvailable',
      'isMetadataWebSocketHookAvailable',
      'isPermanentAwsError',
      'listSessions',
      'logWrites',
      'recountFeedback',
      'relayPendingNotifications',
      'serializeMetadataEvent',
      'startOutboxRelay',
      'toOutboxEntry',
    ])
    expect(Object.keys(testing).sort()).toEqual(['ScriptedModel'])
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
      new api.ConfigurationError('x'),
      new api.ClosedError('x'),
    ]
    for (const error of errors) expect(error).toBeInstanceOf(api.MongoSessionError)
    expect(errors.map((e) => e.code)).toEqual([
      'MSM_VALIDATION',
      'MSM_NOT_FOUND',
      'MSM_CONFLICT',
      'MSM_DOCUMENT_TOO_LARGE',
      'MSM_STORAGE',
      'MSM_CONFIGURATION',
      'MSM_CLOSED',
    ])
  })

  it('ships as ESM with types first in the exports map and the SDK as a peer', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
    expect(pkg.type).toBe('module')
    expect(Object.keys(pkg.exports['.'])[0]).toBe('types')
    expect(Object.keys(pkg.exports['./testing'])[0]).toBe('types')
    expect(pkg.dependencies['@strands-agents/sdk']).toBeUndefined()
    expect(pkg.peerDependencies['@strands-agents/sdk']).toBeDefined()
    expect(pkg.peerDependencies.zod).toBeDefined()
    for (const client of ['client-sns', 'client-sqs', 'client-apigatewaymanagementapi']) {
      expect(pkg.peerDependenciesMeta[`@aws-sdk/${client}`]).toEqual({ optional: true })
    }
    expect(pkg.engines.node).toBe('>=22')
  })
})

/**
 * AWS integrations: SNS feedback notifications, SQS and API Gateway WebSocket metadata propagation,
 * their senders (for the outbox relay), availability checks and the WebSocket connection registry.
 */
export type { AwsClientLike } from './aws-client.js'
export { isPermanentAwsError } from './aws-client.js'
export {
  isFeedbackSnsHookAvailable,
  isMetadataSqsHookAvailable,
  isMetadataWebSocketHookAvailable,
} from './optional-packages.js'
export { createFeedbackSnsHook, type FeedbackSnsHook, type FeedbackSnsHookOptions } from './feedback-sns-hook.js'
export { createMetadataSqsHook, type MetadataSqsHook, type MetadataSqsHookOptions } from './metadata-sqs-hook.js'
export {
  createMetadataWebSocketHook,
  type MetadataWebSocketHook,
  type MetadataWebSocketHookOptions,
} from './metadata-websocket-hook.js'
export {
  createAwsKmsKeyProvider,
  isAwsKmsKeyProviderAvailable,
  type AwsKmsKeyProviderOptions,
} from './kms-key-provider.js'
export { createSnsSender, SNS_CHANNEL, type SnsSenderOptions } from './sns-sender.js'
export { createSqsSender, SQS_CHANNEL, type SqsSenderOptions } from './sqs-sender.js'
export {
  createWebSocketSender,
  WEBSOCKET_CHANNEL,
  isGoneError,
  type WebSocketSenderOptions,
} from './websocket-sender.js'
export {
  createWebSocketConnectionRegistry,
  listWebSocketConnections,
  registerWebSocketConnection,
  removeWebSocketConnection,
  type WebSocketConnectionRegistry,
} from '../features/websocket-connections.js'
export { InvalidNotificationError, EVENT_ID_ATTRIBUTE } from './payload.js'
export {
  buildFeedbackMessage,
  buildFeedbackSubject,
  sanitizeSnsSubject,
  SNS_SUBJECT_MAX_LENGTH,
  type RatingLabel,
} from './feedback-format.js'
export { renderTemplate, type TemplateVariables } from './template.js'
export {
  buildMetadataEvent,
  serializeMetadataEvent,
  filterMetadataFields,
  METADATA_EVENT_NAME,
  type MetadataEventBody,
  type MetadataOperation,
  type TimestampFormat,
} from './metadata-event.js'

/**
 * Runs the chat API: `npx tsx examples/chat-api/main.ts` (PORT, default 3000).
 * MongoDB from MONGODB_URI (else a local FerretDB); SNS/SQS from the AWS environment (else fauxqs).
 *
 *   curl -s localhost:3000/sessions/s-1/messages -H 'content-type: application/json' -d '{"message":"Where is order A-1001?"}'
 *   curl -s localhost:3000/sessions/s-1/feedback -H 'content-type: application/json' -d '{"rating":"down","comment":"too slow"}'
 *   curl -s -X PATCH localhost:3000/sessions/s-1/metadata -H 'content-type: application/json' -d '{"status":"escalated"}'
 */
import { MongoDBSessionManagerFactory } from '../../src/index.js'
import { createFeedbackSnsHook, createMetadataSqsHook } from '../../src/aws/index.js'
import { resolveAws } from '../shared/local-aws.js'
import { resolveMongo } from '../shared/mongo.js'
import { createModel } from '../shared/support-agent.js'
import { buildChatApp } from './app.js'

const mongo = await resolveMongo({ log: (line) => console.log(line) })
const aws = await resolveAws()
const factory = new MongoDBSessionManagerFactory({
  connectionString: mongo.uri,
  databaseName: 'msm_chat_api',
  applicationName: 'chat-api',
  metadataFields: ['status', 'priority'],
  feedbackHook: createFeedbackSnsHook({
    topicArnGood: aws.topics.good,
    topicArnBad: aws.topics.bad,
    topicArnNeutral: aws.topics.neutral,
    client: aws.sns,
  }),
  metadataHook: createMetadataSqsHook({
    queueUrl: aws.metadataQueueUrl,
    metadataFields: ['status', 'priority'],
    client: aws.sqs,
  }),
})
await factory.connect()
const app = buildChatApp({ factory, createModel: () => createModel('scripted'), logger: true })
const port = Number(process.env.PORT ?? 3000)
await app.listen({ port, host: '127.0.0.1' })

const shutdown = async (): Promise<void> => {
  await app.close() // stop accepting requests, finish the ones in flight
  await factory.close() // drain notifications, close the pool
  await aws.stop()
  await mongo.stop()
}
process.once('SIGINT', () => void shutdown())
process.once('SIGTERM', () => void shutdown())

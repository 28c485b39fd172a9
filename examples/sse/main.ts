/**
 * Runs the SSE example: `npx tsx examples/sse/main.ts` (PORT, default 3001), then
 *
 *   curl -N localhost:3001/sessions/workflow-123/events            # a "browser"
 *   curl -X PATCH localhost:3001/sessions/workflow-123/metadata \
 *        -H 'content-type: application/json' -d '{"status":"running","progress":50}'
 *
 * MongoDB from MONGODB_URI (else a local FerretDB); SQS from SQS_METADATA_QUEUE_URL (else fauxqs).
 */
import { MongoDBSessionManagerFactory } from '../../src/index.js'
import { createMetadataSqsHook } from '../../src/aws/index.js'
import { resolveAws } from '../shared/local-aws.js'
import { resolveMongo } from '../shared/mongo.js'
import { createSseServer } from './server.js'

const mongo = await resolveMongo({ log: (line) => console.log(line) })
const aws = await resolveAws()
const factory = new MongoDBSessionManagerFactory({
  connectionString: mongo.uri,
  databaseName: 'msm_sse',
  metadataHook: createMetadataSqsHook({
    queueUrl: aws.metadataQueueUrl,
    metadataFields: ['status', 'progress', 'current_step'],
    client: aws.sqs,
  }),
})
const sse = createSseServer({ factory, sqs: aws.sqs, queueUrl: aws.metadataQueueUrl, log: (line) => console.log(line) })
const port = Number(process.env.PORT ?? 3001)
sse.server.listen(port, '127.0.0.1', () => console.log(`SSE example on http://127.0.0.1:${port}`))

const shutdown = async (): Promise<void> => {
  await sse.close()
  await factory.close()
  await aws.stop()
  await mongo.stop()
}
process.once('SIGINT', () => void shutdown())
process.once('SIGTERM', () => void shutdown())

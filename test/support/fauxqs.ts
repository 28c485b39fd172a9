/**
 * An in-process SNS/SQS emulator (fauxqs) bound to 127.0.0.1 on a free port, driven by the
 * official AWS SDK v3 clients.
 */
import { SNSClient } from '@aws-sdk/client-sns'
import { SQSClient } from '@aws-sdk/client-sqs'
import { buildApp } from 'fauxqs'

export interface RunningFauxqs {
  endpoint: string
  region: string
  port: number
  clientConfig: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } }
  sns: SNSClient
  sqs: SQSClient
  stop(): Promise<void>
}

export async function startFauxqs(options: { port?: number; region?: string } = {}): Promise<RunningFauxqs> {
  const region = options.region ?? 'eu-west-1'
  const app = buildApp({ logger: false, defaultRegion: region })
  await app.listen({ port: options.port ?? 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (!address || typeof address === 'string') throw new Error('fauxqs did not report a TCP address')
  const endpoint = `http://127.0.0.1:${address.port}`
  const clientConfig = { endpoint, region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }
  const sns = new SNSClient(clientConfig)
  const sqs = new SQSClient(clientConfig)
  return {
    endpoint,
    region,
    port: address.port,
    clientConfig,
    sns,
    sqs,
    async stop() {
      sns.destroy()
      sqs.destroy()
      await app.close()
    },
  }
}

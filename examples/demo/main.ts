/**
 * `npm run demo`: the whole system, with no setup.
 *
 * MongoDB from `MONGODB_URI`, else a local FerretDB; SNS/SQS from the AWS environment, else fauxqs
 * in-process. A Strands agent (deterministic scripted model, or Bedrock with `--model bedrock`) holds
 * a support conversation with a tool call; the session is reopened by a new manager; feedback and
 * metadata changes go out as SNS notifications and SQS events, which the demo reads back; it ends
 * with the metrics summary.
 *
 *   npm run demo                      # everything local
 *   npm run demo -- --model bedrock   # a real model (needs AWS credentials and Bedrock access)
 *   MONGODB_URI=mongodb://127.0.0.1:27018/ npm run demo -- --keep   # keep the session (server: npm run ferretdb)
 */
import { parseArgs } from 'node:util'
import { describeError } from '../../src/logging.js'
import { GoToolchainMissingError } from '../shared/mongo.js'
import { awsCredentialsPresent } from '../shared/support-agent.js'
import { Report } from './report.js'
import { runDemo } from './run.js'

const HELP = `Usage: npm run demo -- [--model scripted|bedrock] [--keep] [--help]

  --model scripted   deterministic local model, no network (default)
  --model bedrock    Amazon Bedrock (needs AWS credentials; BEDROCK_MODEL_ID, AWS_REGION optional)
  --keep             keep the demo session in the database, to inspect with the CLI (with MONGODB_URI:
                     a temporary local FerretDB loses it; 'npm run ferretdb' starts one that lasts)

Environment: MONGODB_URI (else a local FerretDB is started; needs Go the first time),
SNS_TOPIC_FEEDBACK_GOOD / _BAD / _NEUTRAL and SQS_METADATA_QUEUE_URL (else fauxqs runs in-process).
`

async function main(): Promise<number> {
  let values: { model?: string; keep?: boolean; help?: boolean }
  try {
    values = parseArgs({
      options: { model: { type: 'string' }, keep: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }).values
  } catch (error) {
    process.stderr.write(`demo: ${(error as Error).message}\n${HELP}`)
    return 2
  }
  if (values.help) {
    process.stdout.write(HELP)
    return 0
  }
  const model = values.model ?? 'scripted'
  if (model !== 'scripted' && model !== 'bedrock') {
    process.stderr.write(`demo: --model must be scripted or bedrock, got ${JSON.stringify(model)}\n`)
    return 2
  }
  if (model === 'bedrock' && !awsCredentialsPresent()) {
    process.stderr.write(
      'demo: --model bedrock needs AWS credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE)\n',
    )
    return 2
  }
  const report = new Report(process.stdout)
  try {
    await runDemo({ report, model, keep: values.keep ?? false })
    return 0
  } catch (error) {
    if (error instanceof GoToolchainMissingError) {
      process.stderr.write('demo: set MONGODB_URI to a MongoDB server, or install Go (1.24+) to run a local FerretDB\n')
      return 1
    }
    const message = describeError(error)
    process.stderr.write(`\n${report.s.red('✘')} demo failed during "${report.current}": ${message}\n`)
    return 1
  }
}

process.exitCode = await main()

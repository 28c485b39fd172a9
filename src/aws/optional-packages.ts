/**
 * The AWS SDK v3 clients are optional peer dependencies: only the hooks that need one require it,
 * and it is loaded on first use.
 *
 * One mechanism answers every question about a package — Node's module resolution from this
 * library's own location (`createRequire`), which also honours `NODE_PATH`:
 * - {@link OptionalPackage.isInstalled} (the public `is…Available()` checks) resolves it;
 * - {@link OptionalPackage.assertInstalled} (the `create…Hook()` factories) resolves it and throws;
 * - {@link OptionalPackage.load} (the senders, on first send) requires what was resolved.
 * So a check that says `true` means the factory succeeds and the first send can load the package,
 * and a check that says `false` means the factory throws, in a bundle as much as in node_modules.
 * A bundler does not inline the package into the library (the name is looked up at run time): a
 * bundled application keeps `@aws-sdk/client-*` external and installed, or uses the copy the Lambda
 * Node.js runtime provides (it is on the runtime's `NODE_PATH`).
 */
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { ConfigurationError } from '../errors.js'

/**
 * Where resolution starts: this module. A CommonJS bundle has no `import.meta.url` (esbuild empties
 * `import.meta`), hence the fallbacks: the bundle's own file, else the working directory.
 */
function resolutionBase(): string {
  const url = (import.meta as { url?: unknown }).url
  if (typeof url === 'string') return url
  if (typeof __filename === 'string') return __filename
  return pathToFileURL(`${process.cwd()}/`).href
}

const nodeRequire = createRequire(resolutionBase())

/** An optional package, resolved and loaded synchronously. `M` is the structural subset of its exports we use. */
export class OptionalPackage<M> {
  /** npm package name, e.g. `@aws-sdk/client-sns`. */
  readonly name: string
  /** What needs the package, for error messages (e.g. `createFeedbackSnsHook`). */
  readonly feature: string
  #module: M | undefined

  /**
   * @param name npm package name
   * @param feature what needs it (named in error messages)
   */
  constructor(name: string, feature: string) {
    this.name = name
    this.feature = feature
  }

  /** `true` when the package resolves from here (nothing is loaded). */
  isInstalled(): boolean {
    try {
      nodeRequire.resolve(this.name)
      return true
    } catch {
      return false
    }
  }

  /** Throws a {@link ConfigurationError} naming the package when it does not resolve from here. */
  assertInstalled(): void {
    try {
      nodeRequire.resolve(this.name)
    } catch (error) {
      throw this.#missing(error)
    }
  }

  /** Loads the package once (cached); throws a {@link ConfigurationError} naming it when it cannot. */
  load(): M {
    if (this.#module === undefined) {
      try {
        this.#module = nodeRequire(this.name) as M
      } catch (error) {
        // Not cached: installing the package without restarting is rare, but cheap to allow.
        throw this.#missing(error)
      }
    }
    return this.#module
  }

  #missing(cause: unknown): ConfigurationError {
    return new ConfigurationError(
      `${this.feature} needs the optional package '${this.name}', which cannot be resolved from this library: ` +
        `install it with \`npm install ${this.name}\` (a bundled application must keep it external)`,
      { cause },
    )
  }
}

/** Structural subset of `@aws-sdk/client-sns` used by the SNS hook. */
export interface SnsModule {
  SNSClient: new (config: Record<string, unknown>) => unknown
  PublishCommand: new (input: Record<string, unknown>) => unknown
}

/** Structural subset of `@aws-sdk/client-sqs` used by the SQS hook. */
export interface SqsModule {
  SQSClient: new (config: Record<string, unknown>) => unknown
  SendMessageCommand: new (input: Record<string, unknown>) => unknown
}

/** Structural subset of `@aws-sdk/client-apigatewaymanagementapi` used by the WebSocket hook. */
export interface ApiGatewayManagementModule {
  ApiGatewayManagementApiClient: new (config: Record<string, unknown>) => unknown
  PostToConnectionCommand: new (input: Record<string, unknown>) => unknown
}

/** Structural subset of `@aws-sdk/client-kms` used by the KMS key provider. */
export interface KmsModule {
  KMSClient: new (config: Record<string, unknown>) => unknown
  GenerateDataKeyCommand: new (input: Record<string, unknown>) => unknown
  EncryptCommand: new (input: Record<string, unknown>) => unknown
  DecryptCommand: new (input: Record<string, unknown>) => unknown
}

/** `@aws-sdk/client-kms`, needed by `createAwsKmsKeyProvider`. */
export const kmsPackage = new OptionalPackage<KmsModule>('@aws-sdk/client-kms', 'createAwsKmsKeyProvider')

/** `@aws-sdk/client-sns`, needed by `createFeedbackSnsHook`. */
export const snsPackage = new OptionalPackage<SnsModule>('@aws-sdk/client-sns', 'createFeedbackSnsHook')

/** `@aws-sdk/client-sqs`, needed by `createMetadataSqsHook`. */
export const sqsPackage = new OptionalPackage<SqsModule>('@aws-sdk/client-sqs', 'createMetadataSqsHook')

/** `@aws-sdk/client-apigatewaymanagementapi`, needed by `createMetadataWebSocketHook`. */
export const apiGatewayManagementPackage = new OptionalPackage<ApiGatewayManagementModule>(
  '@aws-sdk/client-apigatewaymanagementapi',
  'createMetadataWebSocketHook',
)

/**
 * Whether `createFeedbackSnsHook` can be used: `@aws-sdk/client-sns` resolves from this library.
 * Synchronous; the factory uses the same check, so when this is `true` it does not throw for a missing package.
 */
export function isFeedbackSnsHookAvailable(): boolean {
  return snsPackage.isInstalled()
}

/** Whether `createMetadataSqsHook` can be used: `@aws-sdk/client-sqs` resolves from this library. Synchronous. */
export function isMetadataSqsHookAvailable(): boolean {
  return sqsPackage.isInstalled()
}

/**
 * Whether `createMetadataWebSocketHook` can be used: `@aws-sdk/client-apigatewaymanagementapi` resolves
 * from this library. Synchronous.
 */
export function isMetadataWebSocketHookAvailable(): boolean {
  return apiGatewayManagementPackage.isInstalled()
}

/**
 * The AWS SDK v3 clients are optional peer dependencies: they are loaded lazily, on first use,
 * and only the hooks that need them require them.
 *
 * Two checks exist because they answer different questions:
 * - {@link OptionalPackage.assertInstalled} is synchronous (module resolution only) so that the
 *   `create…Hook()` factories can fail at creation time with a clear message;
 * - {@link OptionalPackage.isAvailable} really imports the package (cached), which is what the public
 *   `is…Available()` functions report.
 */
import { createRequire } from 'node:module'
import { ConfigurationError } from '../errors.js'

const require = createRequire(import.meta.url)

/** A lazily imported optional package. `M` is the structural subset of its exports we use. */
export class OptionalPackage<M> {
  /** npm package name, e.g. `@aws-sdk/client-sns`. */
  readonly name: string
  /** What needs the package, for error messages (e.g. `createFeedbackSnsHook`). */
  readonly feature: string
  readonly #importer: () => Promise<unknown>
  #loading: Promise<M> | undefined

  /**
   * @param name npm package name
   * @param feature what needs it (named in error messages)
   * @param importer `() => import('<literal name>')`, so bundlers can see the dependency
   */
  constructor(name: string, feature: string, importer: () => Promise<unknown>) {
    this.name = name
    this.feature = feature
    this.#importer = importer
  }

  /** Loads the package once; rejects with a {@link ConfigurationError} naming the package when it cannot. */
  load(): Promise<M> {
    if (!this.#loading) {
      const loading = this.#importer().then(
        (module) => module as M,
        (error: unknown) => {
          throw this.#missing(error)
        },
      )
      // A failed import is not cached: installing the package without restarting is rare, but cheap to allow.
      loading.catch(() => {
        if (this.#loading === loading) this.#loading = undefined
      })
      this.#loading = loading
    }
    return this.#loading
  }

  /** `true` when the package can really be imported (the import is performed and cached). */
  async isAvailable(): Promise<boolean> {
    try {
      await this.load()
      return true
    } catch {
      return false
    }
  }

  /** Throws a {@link ConfigurationError} naming the package when it cannot be resolved from here. */
  assertInstalled(): void {
    try {
      require.resolve(this.name)
    } catch (error) {
      throw this.#missing(error)
    }
  }

  #missing(cause: unknown): ConfigurationError {
    return new ConfigurationError(
      `${this.feature} needs the optional package '${this.name}', which cannot be loaded: install it with ` +
        `\`npm install ${this.name}\``,
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

/** `@aws-sdk/client-sns`, needed by `createFeedbackSnsHook`. */
export const snsPackage = new OptionalPackage<SnsModule>(
  '@aws-sdk/client-sns',
  'createFeedbackSnsHook',
  () => import('@aws-sdk/client-sns'),
)

/** `@aws-sdk/client-sqs`, needed by `createMetadataSqsHook`. */
export const sqsPackage = new OptionalPackage<SqsModule>(
  '@aws-sdk/client-sqs',
  'createMetadataSqsHook',
  () => import('@aws-sdk/client-sqs'),
)

/** `@aws-sdk/client-apigatewaymanagementapi`, needed by `createMetadataWebSocketHook`. */
export const apiGatewayManagementPackage = new OptionalPackage<ApiGatewayManagementModule>(
  '@aws-sdk/client-apigatewaymanagementapi',
  'createMetadataWebSocketHook',
  () => import('@aws-sdk/client-apigatewaymanagementapi'),
)

/** Whether `@aws-sdk/client-sns` can be loaded, so `createFeedbackSnsHook` can work. The import is cached. */
export function isFeedbackSnsHookAvailable(): Promise<boolean> {
  return snsPackage.isAvailable()
}

/** Whether `@aws-sdk/client-sqs` can be loaded, so `createMetadataSqsHook` can work. The import is cached. */
export function isMetadataSqsHookAvailable(): Promise<boolean> {
  return sqsPackage.isAvailable()
}

/**
 * Whether `@aws-sdk/client-apigatewaymanagementapi` can be loaded, so `createMetadataWebSocketHook` can
 * work. The import is cached.
 */
export function isMetadataWebSocketHookAvailable(): Promise<boolean> {
  return apiGatewayManagementPackage.isAvailable()
}

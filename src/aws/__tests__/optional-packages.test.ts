import { describe, expect, it } from 'vitest'
import { ConfigurationError } from '../../errors.js'
import {
  isFeedbackSnsHookAvailable,
  isMetadataSqsHookAvailable,
  isMetadataWebSocketHookAvailable,
  OptionalPackage,
} from '../optional-packages.js'

describe('optional AWS packages', () => {
  it('availability checks are synchronous booleans (a Promise would make `if (check())` always true)', () => {
    for (const check of [isFeedbackSnsHookAvailable, isMetadataSqsHookAvailable, isMetadataWebSocketHookAvailable]) {
      const answer: unknown = check()
      expect(typeof answer).toBe('boolean')
      expect(answer).toBe(true) // the client packages are installed here
    }
  })

  it('a package that cannot be resolved: unavailable, and a ConfigurationError naming it from every entry point', () => {
    const name = '@aws-sdk/client-does-not-exist-msm'
    const missing = new OptionalPackage(name, 'createSomethingHook')
    expect(missing.isInstalled()).toBe(false)
    expect(() => missing.assertInstalled()).toThrow(ConfigurationError)
    expect(() => missing.assertInstalled()).toThrow(`npm install ${name}`)
    expect(() => missing.load()).toThrow(/createSomethingHook needs the optional package/)
  })

  it('an installed package: available, the factory check passes, and it loads once (cached)', () => {
    const pkg = new OptionalPackage<{ PublishCommand: unknown }>('@aws-sdk/client-sns', 'x')
    expect(pkg.isInstalled()).toBe(true)
    expect(() => pkg.assertInstalled()).not.toThrow()
    const first = pkg.load()
    expect(typeof first.PublishCommand).toBe('function')
    expect(pkg.load()).toBe(first)
  })
})

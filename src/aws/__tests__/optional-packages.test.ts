import { describe, expect, it } from 'vitest'
import { ConfigurationError } from '../../errors.js'
import {
  isFeedbackSnsHookAvailable,
  isMetadataSqsHookAvailable,
  isMetadataWebSocketHookAvailable,
  OptionalPackage,
} from '../optional-packages.js'

describe('optional AWS packages', () => {
  it('report available when the client packages really load (they are installed here)', async () => {
    await expect(isFeedbackSnsHookAvailable()).resolves.toBe(true)
    await expect(isMetadataSqsHookAvailable()).resolves.toBe(true)
    await expect(isMetadataWebSocketHookAvailable()).resolves.toBe(true)
  })

  it('a package that cannot be loaded: unavailable, and a ConfigurationError naming it', async () => {
    const name = '@aws-sdk/client-does-not-exist-msm'
    const missing = new OptionalPackage(name, 'createSomethingHook', () => import(/* @vite-ignore */ name))
    await expect(missing.isAvailable()).resolves.toBe(false)
    expect(() => missing.assertInstalled()).toThrow(ConfigurationError)
    expect(() => missing.assertInstalled()).toThrow(`npm install ${name}`)
    await expect(missing.load()).rejects.toThrow(/createSomethingHook needs the optional package/)
  })

  it('caches a successful import', async () => {
    let imports = 0
    const pkg = new OptionalPackage('@aws-sdk/client-sns', 'x', async () => {
      imports += 1
      return import('@aws-sdk/client-sns')
    })
    await pkg.load()
    await pkg.load()
    await pkg.isAvailable()
    expect(imports).toBe(1)
  })
})

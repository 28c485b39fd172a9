/** The error a test expects, checked to be of the expected class, so its fields can be asserted. */
import { expect } from 'vitest'

type ErrorClass<E> = abstract new (...args: never[]) => E

/** The error `run` throws, which must be an instance of `type` (the test fails otherwise, or when nothing is thrown). */
export function thrownBy<E>(run: () => unknown, type: ErrorClass<E>): E {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(type)
    return error as E
  }
  throw new Error(`expected a ${type.name}, nothing was thrown`)
}

/** The error `attempt` rejects with, which must be an instance of `type`. */
export async function rejectionOf<E>(attempt: Promise<unknown>, type: ErrorClass<E>): Promise<E> {
  const outcome = await attempt.then(
    () => ({ rejected: false as const }),
    (error: unknown) => ({ rejected: true as const, error }),
  )
  if (!outcome.rejected) throw new Error(`expected a ${type.name}, the promise resolved`)
  expect(outcome.error).toBeInstanceOf(type)
  return outcome.error as E
}

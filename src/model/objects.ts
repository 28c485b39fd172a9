/**
 * Plain-object helpers shared by the code that walks user JSON (validation, storage encoding,
 * sealing, display). User data may hold keys such as `__proto__`, so properties are defined, never
 * assigned.
 */

/** An object literal (or one without a prototype): not an array, a date, bytes or a class instance. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

/** Sets an own property even for the key `__proto__`, which plain assignment would treat as the prototype. */
export function defineOwn(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
}

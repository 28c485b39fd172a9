/**
 * Text that MongoDB cannot store as given.
 *
 * BSON strings are UTF-8. A lone UTF-16 surrogate (half of a pair, as left by slicing an emoji in
 * two) has no UTF-8 form: the driver writes U+FFFD in its place and the text reads back different.
 * BSON field names are C strings: they end at the first NUL, and the driver refuses them.
 */

/** A high surrogate not followed by a low one, or a low surrogate not preceded by a high one. */
export const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/** `true` when `text` holds a lone surrogate, i.e. is not well-formed Unicode. */
export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text)
}

/** `true` when a string or an object key anywhere inside the JSON value `value` holds a lone surrogate. */
export function containsLoneSurrogate(value: unknown): boolean {
  if (typeof value === 'string') return hasLoneSurrogate(value)
  if (Array.isArray(value)) return value.some(containsLoneSurrogate)
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).some(([key, item]) => hasLoneSurrogate(key) || containsLoneSurrogate(item))
  }
  return false
}

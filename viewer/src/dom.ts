/**
 * Building DOM nodes without markup: text is always a text node (textContent), never parsed as HTML,
 * so message text, metadata and comments can never become elements or scripts.
 */
export type Child = Node | string | number | null | undefined | false
type Attrs = Record<string, string | number | boolean | undefined | null>

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue
    if (name === 'class') element.className = String(value)
    else element.setAttribute(name, value === true ? '' : String(value))
  }
  append(element, children)
  return element
}

export function append(parent: Node, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)))
  }
}

/** Replaces the children of `parent`. */
export function replace(parent: Node, ...children: (Child | Child[])[]): void {
  while (parent.firstChild) parent.removeChild(parent.firstChild)
  append(parent, children)
}

/** `2026-11-30 07:24:05Z` from an ISO instant. */
export function formatDate(value: string | null | undefined): string {
  if (!value) return '-'
  return value.replace('T', ' ').replace(/\.\d+Z$/, 'Z')
}

export function formatBytes(bytes: number | null): string {
  if (bytes === null) return 'size unknown'
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

/** What the server sends for a value encrypted at rest (it holds no key). */
function isEncrypted(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.keys(value).length === 1 &&
    (value as { $encrypted?: unknown }).$encrypted === true
  )
}

/** Shown in place of a value encrypted at rest. */
export const ENCRYPTED = '[encrypted]'

/** JSON text of a stored value, encrypted parts as `"[encrypted]"`. */
export function displayJson(value: unknown, space?: number): string {
  return JSON.stringify(value, (_key, item: unknown) => (isEncrypted(item) ? ENCRYPTED : item), space) ?? ''
}

/** A stored string, or `[encrypted]`. */
export function displayText(value: string | object): string {
  return typeof value === 'string' ? value : isEncrypted(value) ? ENCRYPTED : displayJson(value)
}

export function compactJson(value: unknown): string {
  return displayJson(value)
}

/** A `list` table: a header row, then one row per entry; every cell goes in as text or an element. */
export function table(headers: string[], rows: Child[][], id?: string): HTMLElement {
  return h(
    'table',
    { class: 'list', id },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headers.map((t) => h('th', {}, t)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((cells) =>
        h(
          'tr',
          {},
          cells.map((c) => h('td', {}, c)),
        ),
      ),
    ),
  )
}

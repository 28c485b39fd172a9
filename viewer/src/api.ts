/** The viewer's JSON API (same origin; the access cookie, when one is needed, goes along). */
import type { SessionPage } from '../../src/features/catalogue.js'
import type { SessionSearchHit } from '../../src/features/session-search.js'
import type { Dashboard } from '../../src/cli/viewer/dashboard.js'
import type { SessionView } from '../../src/cli/viewer/session-view.js'

/** A server type as it arrives in JSON: dates are ISO strings. */
export type Json<T> = T extends Date
  ? string
  : T extends (infer U)[]
    ? Json<U>[]
    : T extends object
      ? { [K in keyof T]: Json<T[K]> }
      : T

export interface ViewerConfig {
  metadataFields: string[]
  maxDashboardDays: number
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message)
  }
}

async function get<T>(path: string): Promise<T> {
  const response = await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
  const body = (await response.json().catch(() => ({}))) as { error?: string }
  if (!response.ok) throw new ApiError(body.error ?? `HTTP ${response.status}`, response.status)
  return body as T
}

export const api = {
  config: () => get<ViewerConfig>('/api/config'),
  sessions: (params: URLSearchParams) => get<Json<SessionPage>>(`/api/sessions?${params}`),
  search: (params: URLSearchParams) => get<{ hits: Json<SessionSearchHit>[] }>(`/api/search?${params}`),
  session: (id: string) => get<Json<SessionView>>(`/api/sessions/${encodeURIComponent(id)}`),
  dashboard: (params: URLSearchParams) => get<Json<Dashboard>>(`/api/dashboard?${params}`),
}

/**
 * `search_sessions`: a Strands tool that lets an agent search its user's earlier sessions (to
 * answer "what did we decide last week?"). It is scoped to one user, fixed when the tool is built:
 * the model cannot widen it. Built for a session without a user, it searches nothing and says so,
 * since an unscoped search would reach every user's conversations.
 */
import { tool, type InvokableTool } from '@strands-agents/sdk'
import { z } from 'zod'
import { MongoSessionError } from '../errors.js'
import type { SessionSearchHit } from './session-search.js'

/** Options of `getSessionSearchTool()`. */
export interface SessionSearchToolOptions {
  /** Tool name (SDK rule: `^[a-zA-Z0-9_-]{1,64}$`); default `search_sessions`. */
  name?: string
  /** Replaces the default description shown to the model. */
  description?: string
  /** Hits per call, 1–50; default 5. */
  limit?: number
}

/** Structured tool results. */
export type SessionSearchToolResult =
  | {
      ok: true
      results: { sessionId: string; title: string | null; lastActivity: string | null; excerpt: string | null }[]
    }
  | { ok: false; error: string }

const inputSchema = z.object({
  query: z.string().describe('Words or a phrase to find in earlier conversations (titles and messages).'),
})

/** Builds the tool; `search` runs a search already scoped to `userId`. */
export function createSessionSearchTool(
  userId: string | null,
  search: (text: string, limit: number) => Promise<SessionSearchHit[]>,
  options: SessionSearchToolOptions = {},
): InvokableTool<z.infer<typeof inputSchema>, SessionSearchToolResult> {
  const limit = options.limit ?? 5
  return tool({
    name: options.name ?? 'search_sessions',
    description:
      options.description ??
      "Search the user's earlier conversation sessions by words in their titles and messages. " +
        'Returns the matching sessions, most recent first, each with its title, last activity and an excerpt.',
    inputSchema,
    callback: async (input): Promise<SessionSearchToolResult> => {
      if (userId === null) return { ok: false, error: 'this session has no user, so there are no sessions to search' }
      try {
        const hits = await search(String(input.query ?? ''), limit)
        return {
          ok: true,
          results: hits.map((hit) => ({
            sessionId: hit.session.sessionId,
            title: hit.session.title,
            lastActivity: hit.session.updatedAt?.toISOString() ?? null,
            excerpt: hit.snippet ?? hit.session.preview,
          })),
        }
      } catch (error) {
        if (error instanceof MongoSessionError) return { ok: false, error: error.message }
        throw error
      }
    },
  })
}

/**
 * Safe templating for the SNS subject and body prefixes.
 *
 * Only `{session_id}`, `{rating}` and `{timestamp}` are replaced. Anything else — unknown
 * placeholders, lone or doubled braces, format specs — is kept as written. Rendering never throws:
 * a prefix is user text, and a literal brace in it must not break the notification.
 */

/** The values a prefix template may use. */
export interface TemplateVariables {
  session_id: string
  /** `positive`, `negative` or `neutral`. */
  rating: string
  /** ISO 8601 UTC, e.g. `2024-01-26T10:30:45.123Z`. */
  timestamp: string
}

const PLACEHOLDER = /\{(session_id|rating|timestamp)\}/g

/** Renders `template` with `variables`; `undefined`/`null` render as the empty string. */
export function renderTemplate(template: string | null | undefined, variables: TemplateVariables): string {
  if (template === undefined || template === null || template === '') return ''
  return template.replace(PLACEHOLDER, (_match, name: keyof TemplateVariables) => variables[name])
}

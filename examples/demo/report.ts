/** The demo's output: numbered sections, aligned fields, colour only on a terminal. */
import { createStyle, type OutputStream, type Style } from '../../src/cli/style.js'

export class Report {
  readonly s: Style
  #section = 0
  #current = 'startup'

  constructor(readonly stream: OutputStream) {
    this.s = createStyle(stream)
  }

  /** Name of the section in progress (for failure messages). */
  get current(): string {
    return this.#current
  }

  line(text = ''): void {
    this.stream.write(`${text}\n`)
  }

  title(text: string): void {
    this.line(this.s.bold(text))
    this.line(this.s.dim('─'.repeat(Math.min(72, text.length + 8))))
  }

  section(title: string): void {
    this.#section += 1
    this.#current = title
    this.line()
    this.line(this.s.bold(this.s.cyan(`${this.#section}. ${title}`)))
  }

  field(key: string, value: string, width = 18): void {
    this.line(`   ${this.s.dim(key.padEnd(width))} ${value}`)
  }

  ok(text: string): void {
    this.line(`   ${this.s.green('✔')} ${text}`)
  }

  item(text: string): void {
    this.line(`   ${text}`)
  }
}

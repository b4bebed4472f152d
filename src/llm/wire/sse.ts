/**
 * Server-sent events, decoded as the WHATWG spec reads them, from text that arrives in arbitrary pieces: lines
 * end with CRLF, LF or CR; `data` lines of one event are joined with LF; a blank line dispatches the event; comment
 * lines and `id`/`retry` fields are ignored (a model stream neither resumes nor reconnects). Text, not bytes: the
 * caller decodes UTF-8 across chunk boundaries (a socket's `setEncoding('utf8')` does).
 */
export class SseDecoder {
  private rest = '';
  private event = '';
  private data: string | undefined;

  constructor(private readonly dispatch: (event: string, data: string) => void) {}

  push(text: string): void {
    let buffer = this.rest === '' ? text : this.rest + text;
    let held = '';
    if (buffer.includes('\r')) {
      // A CR that ends the piece may be the first half of a CRLF: it waits for the next piece.
      if (buffer.endsWith('\r')) {
        held = '\r';
        buffer = buffer.slice(0, -1);
      }
      buffer = buffer.replace(/\r\n?/g, '\n');
    }
    let start = 0;
    for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n', start)) {
      this.line(buffer.slice(start, end));
      start = end + 1;
    }
    this.rest = (start === 0 ? buffer : buffer.slice(start)) + held;
  }

  /** The stream ended: a held CR still ends its line; an event without its blank line is dropped, as the spec says. */
  end(): void {
    if (this.rest.endsWith('\r')) this.push('\n');
    this.rest = '';
    this.data = undefined;
    this.event = '';
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data !== undefined) this.dispatch(this.event || 'message', this.data);
      this.data = undefined;
      this.event = '';
      return;
    }
    const colon = line.indexOf(':');
    if (colon === 0) return; // a comment: keep-alives
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') this.data = this.data === undefined ? value : `${this.data}\n${value}`;
    else if (field === 'event') this.event = value;
  }
}

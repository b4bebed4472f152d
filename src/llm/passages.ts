/** A quotable piece of the report: one paragraph (or list, table, code block) and the headings above it. */
export interface Passage {
  id: number;
  headingPath: string[];
  text: string;
}

export interface ReportOutline {
  passages: Passage[];
  /** Every heading in document order, with its level (1 for `#`). */
  headings: Array<{ level: number; text: string }>;
}

const HEADING = /^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;
const SETEXT_UNDERLINE = /^ {0,3}(=+|-+)[ \t]*$/;
const THEMATIC_BREAK = /^ {0,3}([-*_])([ \t]*\1){2,}[ \t]*$/;
const FENCE = /^ {0,3}(```|~~~)/;

/**
 * Splits Markdown into passages by heading sections, then by blank-line paragraphs. A fenced code block stays
 * whole (its blank lines do not split it) and a `#` inside it is not a heading.
 */
export function splitReport(markdown: string): ReportOutline {
  const passages: Passage[] = [];
  const headings: ReportOutline['headings'] = [];
  const path: Array<{ level: number; text: string }> = [];
  let paragraph: string[] = [];
  let fence: string | undefined;

  const flush = () => {
    const text = paragraph.join('\n').trim();
    paragraph = [];
    if (text !== '') passages.push({ id: passages.length, headingPath: path.map((h) => h.text), text });
  };

  for (const line of markdown.replace(/\r\n?/g, '\n').split('\n')) {
    const fenceMatch = FENCE.exec(line);
    if (fence !== undefined) {
      paragraph.push(line);
      if (fenceMatch && fenceMatch[1] === fence) fence = undefined;
      continue;
    }
    if (fenceMatch) {
      fence = fenceMatch[1];
      paragraph.push(line);
      continue;
    }
    const atx = HEADING.exec(line);
    const setext = paragraph.length === 1 ? SETEXT_UNDERLINE.exec(line) : null;
    if (atx || setext) {
      const level = atx ? atx[1]!.length : setext![1]!.startsWith('=') ? 1 : 2;
      const text = stripInlineMarkdown(atx ? atx[2]! : paragraph[0]!);
      if (atx) flush();
      else paragraph = []; // a setext heading's text line was held as a paragraph
      while (path.length > 0 && path[path.length - 1]!.level >= level) path.pop();
      if (text !== '') {
        path.push({ level, text });
        headings.push({ level, text });
      }
      continue;
    }
    // A horizontal rule separates like a blank line; it is not worth quoting.
    if (line.trim() === '' || (paragraph.length === 0 && THEMATIC_BREAK.exec(line))) flush();
    else paragraph.push(line);
  }
  flush();
  return { passages, headings };
}

/** Heading text as a person reads it: `**Q3** [revenue](#rev)` becomes `Q3 revenue`. */
function stripInlineMarkdown(text: string): string {
  return text
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[*_`]/g, '')
    .trim();
}

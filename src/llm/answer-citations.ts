import type { LanguageModelV3StreamPart } from '@ai-sdk/provider';
import { SourceNumbering } from './citations.js';
import { toReportRange } from './report-excerpt.js';
import type { AnswerEvent, AnswerModel, SentReport, Source } from './types.js';

type SourcePart = Extract<LanguageModelV3StreamPart, { type: 'source' }>;
type Out = Extract<AnswerEvent, { type: 'delta' } | { type: 'source' }>;

/** A label as the prompt shows it, alone or several in one bracket: `[P7]`, `[P7, P9]`. */
const LABEL_GROUP = /^\[P\d{1,7}(?:\s*[,;]\s*P\d{1,7}){0,15}\]/;
/** What could still become a label group once more text arrives. */
const LABEL_PREFIX = /^\[(?:P\d{0,7}(?:\s*[,;]\s*(?:P\d{0,7})?){0,15})?$/;
const LONGEST_LABEL_GROUP = 16 * 11;

/**
 * Turns what a model cites into the answer's numbered, verified sources, in the stream:
 * - `document` models send a `source` part (the cited range of the document, and its words) as a text block
 *   starts; the range is mapped back to the stored report and verified, and the block's end gets its `[n]`.
 * - `labels` models write `[P7]` in their text; a label the prompt showed becomes `[n]`, even when it arrives
 *   split across deltas, and any other is left as it was written and counted as rejected.
 * Either way a source is emitted right after the delta that holds its marker, and the emitted text is exactly
 * the answer's text.
 */
export class AnswerCitations {
  private readonly numbering: SourceNumbering;
  private readonly within: Array<{ start: number; end: number }>;
  private pending: Array<{ source: Source; fresh: boolean }> = [];
  /** Text held back because it may be the start of a label. */
  private held = '';

  constructor(
    private readonly report: SentReport,
    private readonly style: AnswerModel['citations'],
    private readonly labels: Map<string, { start: number; end: number }>,
  ) {
    this.numbering = new SourceNumbering(report.content, report.outline);
    this.within = report.excerpt.pieces;
  }

  get rejected(): number {
    return this.numbering.rejected;
  }

  text(delta: string): Out[] {
    if (this.style !== 'labels') return delta === '' ? [] : [{ type: 'delta', text: delta }];
    return this.rewriteLabels(this.held + delta, false);
  }

  /** A document model's citation of the block in progress. */
  source(part: SourcePart): void {
    if (this.style !== 'document' || part.sourceType !== 'document') return;
    const meta = part.providerMetadata?.anthropic ?? part.providerMetadata?.local;
    const from = meta?.startCharIndex;
    const to = meta?.endCharIndex;
    const quote = typeof meta?.citedText === 'string' ? meta.citedText : undefined;
    const range = typeof from === 'number' && typeof to === 'number' ? toReportRange(this.report.excerpt, from, to) : undefined;
    const cited = this.numbering.cite({ range, quote, within: this.within });
    if (cited) this.pending.push(cited);
  }

  /** A text block ended: the markers of what it cited go where its words end. */
  blockEnd(): Out[] {
    const out: Out[] = [];
    const seen = new Set<number>();
    for (const { source, fresh } of this.pending) {
      if (seen.has(source.n)) continue; // one block citing a range twice gets one marker
      seen.add(source.n);
      out.push({ type: 'delta', text: `[${source.n}]` });
      if (fresh) out.push({ type: 'source', source });
    }
    this.pending = [];
    return mergeDeltas(out);
  }

  /** The stream ended: text held back and markers not yet placed go out now. */
  end(): Out[] {
    const held = this.style === 'labels' ? this.rewriteLabels(this.held, true) : [];
    return mergeDeltas([...held, ...this.blockEnd()]);
  }

  private rewriteLabels(text: string, final: boolean): Out[] {
    const out: Out[] = [];
    let plain = '';
    let i = 0;
    while (i < text.length) {
      const open = text.indexOf('[', i);
      if (open < 0) {
        plain += text.slice(i);
        i = text.length;
        break;
      }
      plain += text.slice(i, open);
      const rest = text.slice(open, open + LONGEST_LABEL_GROUP);
      const group = LABEL_GROUP.exec(rest);
      if (group) {
        const { text: rewritten, sources } = this.rewriteGroup(group[0]);
        out.push({ type: 'delta', text: plain + rewritten }, ...sources);
        plain = '';
        i = open + group[0].length;
        continue;
      }
      if (!final && open + rest.length === text.length && LABEL_PREFIX.test(rest)) {
        this.held = rest; // the label may end in the next delta
        if (plain !== '') out.push({ type: 'delta', text: plain });
        return mergeDeltas(out);
      }
      plain += '[';
      i = open + 1;
    }
    this.held = '';
    if (plain !== '') out.push({ type: 'delta', text: plain });
    return mergeDeltas(out);
  }

  private rewriteGroup(group: string): { text: string; sources: Out[] } {
    const sources: Out[] = [];
    const known: number[] = [];
    const unknown: string[] = [];
    for (const label of group.match(/P\d+/g) ?? []) {
      const range = this.labels.get(label);
      if (!range) {
        this.numbering.rejected++;
        unknown.push(label);
        continue;
      }
      const { source, fresh } = this.numbering.number(range);
      if (!known.includes(source.n)) known.push(source.n);
      if (fresh) sources.push({ type: 'source', source });
    }
    // A label the prompt never showed stays as the model wrote it: plain text, not a marker.
    if (known.length === 0) return { text: group, sources };
    const markers = known.map((n) => `[${n}]`).join('');
    return { text: unknown.length === 0 ? markers : `${markers}[${unknown.join(', ')}]`, sources };
  }
}

function mergeDeltas(events: Out[]): Out[] {
  const out: Out[] = [];
  for (const event of events) {
    const last = out[out.length - 1];
    if (event.type === 'delta' && last?.type === 'delta') out[out.length - 1] = { type: 'delta', text: last.text + event.text };
    else if (event.type !== 'delta' || event.text !== '') out.push(event);
  }
  return out;
}

import { OFFSETS_ATTRIBUTE } from '../markdown/source-offsets.js';
import { findRenderedRange, type Segment } from './passage-map.js';

/** The name of the report's highlight (the CSS Custom Highlight API), styled by `::highlight(report-source)`. */
export const HIGHLIGHT_NAME = 'report-source';

const BLOCKS = 'p, li, td, th, h1, h2, h3, h4, h5, h6, blockquote, pre, dd, dt';

interface TextSegment extends Segment {
  node: Text;
}

/** The rendered texts of a report (the spans of markdown/source-offsets.ts), sorted by their source start. */
function readSegments(root: HTMLElement): TextSegment[] {
  const segments: TextSegment[] = [];
  for (const el of root.querySelectorAll<HTMLElement>(`[${OFFSETS_ATTRIBUTE}]`)) {
    const node = el.firstChild;
    const [start, end] = (el.getAttribute(OFFSETS_ATTRIBUTE) ?? '').split(':').map(Number);
    if (node instanceof Text && start !== undefined && end !== undefined && end > start) segments.push({ start, end, text: node.data, node });
  }
  return segments.sort((a, b) => a.start - b.start);
}

/** The DOM range of the rendered text of the source range [start, end) of `source`, the Markdown `root` shows. */
export function passageRange(root: HTMLElement, source: string, start: number, end: number): Range | undefined {
  const segments = readSegments(root);
  const found = findRenderedRange(source, segments, start, end);
  if (!found) return undefined;
  const range = document.createRange();
  range.setStart(segments[found.from.index]!.node, found.from.offset);
  range.setEnd(segments[found.to.index]!.node, found.to.offset);
  return range.collapsed ? undefined : range;
}

/**
 * Highlights exactly the range, without touching the DOM React owns (the Custom Highlight API); where that API is
 * missing, selects it instead, which browsers show as well.
 */
export function highlightRange(range: Range): void {
  if (typeof Highlight === 'function' && typeof CSS !== 'undefined' && 'highlights' in CSS) {
    CSS.highlights.set(HIGHLIGHT_NAME, new Highlight(range));
    return;
  }
  const selection = window.getSelection();
  selection?.removeAllRanges();
  selection?.addRange(range);
}

export function clearHighlight(): void {
  if (typeof CSS !== 'undefined' && 'highlights' in CSS) CSS.highlights.delete(HIGHLIGHT_NAME);
}

/**
 * Scrolls the page so the range is in view (centred when it fits, its start below the sticky header when it does
 * not), and moves focus to its block, so keyboard and screen reader users go on reading from the passage.
 */
export function revealRange(range: Range): void {
  const start = range.startContainer.parentElement;
  const block = start?.closest<HTMLElement>(BLOCKS) ?? start;
  // A wide table scrolls on its own: bring the cell in first.
  if (block?.closest('.table-scroll')) block.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  const rect = range.getBoundingClientRect();
  const header = document.querySelector('.app-header')?.getBoundingClientRect().bottom ?? 0;
  const room = window.innerHeight - header;
  const offset = rect.height < room * 0.8 ? header + (room - rect.height) / 2 : header + 16;
  const smooth = !window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  window.scrollTo({ top: Math.max(0, window.scrollY + rect.top - offset), behavior: smooth ? 'smooth' : 'auto' });
  if (block) {
    block.setAttribute('tabindex', '-1');
    block.classList.add('passage-target');
    block.addEventListener('blur', () => block.classList.remove('passage-target'), { once: true });
    block.focus({ preventScroll: true });
  }
}

import type { HastNode } from './hast.js';

/** The attribute that carries a rendered text's range in the Markdown source: `start:end` (UTF-16 offsets). */
export const OFFSETS_ATTRIBUTE = 'data-offsets';

/** Elements whose content model allows no text, whose whitespace children the renderer drops. */
const NO_TEXT = new Set(['table', 'thead', 'tbody', 'tfoot', 'tr', 'ul', 'ol']);

/**
 * A rehype plugin that wraps every text of the document that came from the Markdown source in a span naming its
 * source range, so a range of the source (an answer's source) can be found in the rendered page exactly
 * (report/passage-map.ts). Text the renderer made up (list and footnote furniture) has no position and stays bare.
 */
export function rehypeSourceOffsets() {
  return wrapTexts;
}

function wrapTexts(node: HastNode): void {
  if (!node.children) return;
  const bare = node.tagName !== undefined && NO_TEXT.has(node.tagName);
  node.children = node.children.map((child) => {
    if (child.type !== 'text') {
      wrapTexts(child);
      return child;
    }
    const start = child.position?.start.offset;
    const end = child.position?.end.offset;
    if (bare || start === undefined || end === undefined || !child.value) return child;
    return { type: 'element', tagName: 'span', properties: { dataOffsets: `${start}:${end}` }, children: [child] };
  });
}

import type { HastNode } from './hast.js';

/** A piece of an answer's text: plain text, or a `[n]` marker naming one of the answer's sources. */
export type MarkerPiece = string | { n: number };

const MARKER = /\[(\d{1,4})\]/g;

/**
 * Splits text at its `[n]` markers. Only markers whose number is in `known` (the answer's verified sources) are
 * pieces of their own; any other `[n]` stays in the text as written, since the server dropped its source.
 */
export function splitMarkers(text: string, known: ReadonlySet<number>): MarkerPiece[] {
  const pieces: MarkerPiece[] = [];
  let last = 0;
  for (const match of text.matchAll(MARKER)) {
    const n = Number(match[1]);
    if (!known.has(n)) continue;
    if (match.index > last) pieces.push(text.slice(last, match.index));
    pieces.push({ n });
    last = match.index + match[0].length;
  }
  if (last < text.length) pieces.push(text.slice(last));
  return pieces;
}

/** The element a marker becomes; Markdown.tsx renders it with the component it is given. */
export const CITATION_TAG = 'button';
export const CITATION_PROPERTY = 'dataCitation';

/** Markers inside code are code; inside a link they would nest a control in a control. */
const KEEP_AS_TEXT = new Set(['code', 'pre', 'a', 'button']);

/**
 * A rehype plugin: every `[n]` of a known source in the answer's text becomes a citation element. Raw HTML is
 * never rendered (Markdown.tsx), so no other `button` can come from an answer's Markdown.
 */
export function rehypeCitationMarkers(known: ReadonlySet<number>) {
  return (tree: HastNode): void => markCitations(tree, known);
}

function markCitations(node: HastNode, known: ReadonlySet<number>): void {
  if (!node.children || (node.tagName !== undefined && KEEP_AS_TEXT.has(node.tagName))) return;
  node.children = node.children.flatMap((child): HastNode[] => {
    if (child.type !== 'text' || child.value === undefined) {
      markCitations(child, known);
      return [child];
    }
    const pieces = splitMarkers(child.value, known);
    if (pieces.length === 1 && typeof pieces[0] === 'string') return [child];
    return pieces.map((p) =>
      typeof p === 'string'
        ? { type: 'text', value: p }
        : { type: 'element', tagName: CITATION_TAG, properties: { [CITATION_PROPERTY]: String(p.n) }, children: [{ type: 'text', value: `[${p.n}]` }] },
    );
  });
}

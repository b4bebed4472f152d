import { useMemo, type ComponentProps, type ReactNode } from 'react';
import ReactMarkdown, { type Components } from 'react-markdown';
import remarkGfm from 'remark-gfm';
import { CITATION_PROPERTY, rehypeCitationMarkers } from './citation-markers.js';
import { remarkHeadingIds, slugify } from './heading-ids.js';
import { rehypeSourceOffsets } from './source-offsets.js';

/** A report's own `#anchor` links point at its headings, whose ids carry the `section-` prefix (heading-ids.ts). */
function inPage(href: string): string {
  let fragment = href.slice(1);
  try {
    fragment = decodeURIComponent(fragment);
  } catch {
    // A malformed escape: use the fragment as written.
  }
  return fragment.startsWith('section-') ? href : `#section-${slugify(fragment)}`;
}

/** Links leave the app in a new tab; in-page links (a report's own #anchors) stay. */
function Link({ node: _node, href, children, ...rest }: ComponentProps<'a'> & { node?: unknown }) {
  const local = href?.startsWith('#') ?? false;
  return (
    <a
      href={href && local ? inPage(href) : href}
      {...rest}
      {...(href !== undefined && !local ? { target: '_blank', rel: 'noopener noreferrer' } : {})}
    >
      {children}
    </a>
  );
}

/** Wide tables scroll on their own instead of widening the page. */
function Table({ node: _node, children, ...rest }: ComponentProps<'table'> & { node?: unknown }) {
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-label="Table">
      <table {...rest}>{children}</table>
    </div>
  );
}

const components: Components = { a: Link, table: Table };

const plainPlugins = [remarkGfm];
const reportPlugins = [remarkGfm, remarkHeadingIds];

/** `[n]` markers of an answer that name one of its sources, and what each becomes on screen. */
export interface CitationMarkers {
  numbers: ReadonlySet<number>;
  render: (n: number) => ReactNode;
}

/**
 * Markdown as HTML elements, through react-markdown and GitHub-flavoured Markdown. Raw HTML in the text is never
 * rendered (no rehype-raw): it shows as text. `headingIds`: headings get ids (a report's table of contents).
 * `sourceOffsets`: each text names its range in `text` (a report, where an answer's sources are shown).
 * `citations`: an answer's markers become controls.
 */
export function Markdown({
  text,
  headingIds = false,
  sourceOffsets = false,
  citations,
}: {
  text: string;
  headingIds?: boolean;
  sourceOffsets?: boolean;
  citations?: CitationMarkers;
}) {
  const rehypePlugins = useMemo(
    () => [...(sourceOffsets ? [rehypeSourceOffsets] : []), ...(citations ? [() => rehypeCitationMarkers(citations.numbers)] : [])],
    [sourceOffsets, citations],
  );
  const withCitations = useMemo<Components>(() => {
    if (!citations) return components;
    return {
      ...components,
      // Only the citation plugin makes buttons: raw HTML is never rendered.
      button: ({ node }) => citations.render(Number(node?.properties[CITATION_PROPERTY])),
    };
  }, [citations]);
  return (
    <ReactMarkdown remarkPlugins={headingIds ? reportPlugins : plainPlugins} rehypePlugins={rehypePlugins} components={withCitations}>
      {text}
    </ReactMarkdown>
  );
}

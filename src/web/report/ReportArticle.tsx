import { useEffect, useLayoutEffect, useMemo, useRef } from 'react';
import type { Report, Source } from '../api/types.js';
import { Markdown } from '../markdown/Markdown.js';
import { readHeadings, type Heading } from './headings.js';
import { clearHighlight, highlightRange, passageRange, revealRange } from './passage-highlight.js';
import { locateQuote } from './revision-fallback.js';

/** A source to show in the report, asked for by an answer given on `revision`; `key` tells two asks apart. */
export interface PassageTarget {
  source: Source;
  revision: number | null;
  key: number;
}

/**
 * The report itself, rendered from its Markdown; tells its headings to the table of contents once rendered. Shows
 * a `target` source by highlighting exactly its passage and scrolling to it; a source given on another revision
 * is looked for where its words still are, and `onMissing` is told when they are not there any more.
 */
export function ReportArticle({
  report,
  onHeadings,
  target,
  onMissing,
}: {
  report: Report;
  onHeadings: (headings: Heading[]) => void;
  target?: PassageTarget;
  onMissing: (target: PassageTarget | undefined) => void;
}) {
  const article = useRef<HTMLElement>(null);
  const hasTitle = /^\s{0,3}#\s/m.test(report.content);
  // Parsing a long report takes a while: the page re-renders (a source shown, the drawer opened) without it.
  const body = useMemo(() => <Markdown text={report.content} headingIds sourceOffsets />, [report.content]);

  useLayoutEffect(() => {
    if (article.current) onHeadings(readHeadings(article.current));
  }, [report.content, onHeadings]);

  useEffect(() => {
    if (!target || !article.current) return;
    const place = locateQuote(report.content, target.source);
    const range = place && passageRange(article.current, report.content, place.start, place.end);
    if (range) {
      onMissing(undefined);
      highlightRange(range);
      revealRange(range);
    } else {
      clearHighlight();
      if (target.revision !== null && target.revision !== report.revision) onMissing(target);
    }
  }, [target, report.content, report.revision, onMissing]);

  useEffect(() => clearHighlight, []);

  return (
    <article ref={article} className="report-article" aria-label={report.title}>
      {!hasTitle && <h1>{report.title}</h1>}
      {body}
    </article>
  );
}

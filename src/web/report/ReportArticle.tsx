import { useLayoutEffect, useRef } from 'react';
import type { Report } from '../api/types.js';
import { Markdown } from '../markdown/Markdown.js';
import { readHeadings, type Heading } from './headings.js';

/** The report itself, rendered from its Markdown; tells its headings to the table of contents once rendered. */
export function ReportArticle({ report, onHeadings }: { report: Report; onHeadings: (headings: Heading[]) => void }) {
  const article = useRef<HTMLElement>(null);
  const hasTitle = /^\s{0,3}#\s/m.test(report.content);

  useLayoutEffect(() => {
    if (article.current) onHeadings(readHeadings(article.current));
  }, [report.content, onHeadings]);

  return (
    <article ref={article} className="report-article" aria-label={report.title}>
      {!hasTitle && <h1>{report.title}</h1>}
      <Markdown text={report.content} headingIds />
    </article>
  );
}

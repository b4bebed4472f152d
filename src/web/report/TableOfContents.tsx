import { useEffect, useState, type MouseEvent } from 'react';
import { useMediaQuery } from '../ui/use-media-query.js';
import type { Heading } from './headings.js';

/**
 * Links to the report's sections; the one being read is marked as the current location. A column of its own on
 * wide screens; a disclosure, closed at first, above the report on narrower ones.
 */
export function TableOfContents({ headings }: { headings: Heading[] }) {
  const current = useCurrentSection(headings);
  const wide = useMediaQuery('(min-width: 1360px)');
  if (headings.length === 0) return null;

  const jump = (event: MouseEvent<HTMLAnchorElement>, id: string) => {
    const target = document.getElementById(id);
    if (!target) return;
    event.preventDefault();
    target.scrollIntoView({ behavior: 'smooth', block: 'start' });
    // Move focus with the view, so keyboard and screen reader users continue reading from the section.
    target.setAttribute('tabindex', '-1');
    target.focus({ preventScroll: true });
    window.history.replaceState(null, '', `#${id}`);
  };

  const list = (
    <ol className="toc-list">
      {headings.map((h) => (
        <li key={h.id} className={`toc-item toc-level-${h.level}`}>
          <a href={`#${h.id}`} aria-current={current === h.id ? 'location' : undefined} onClick={(e) => jump(e, h.id)}>
            {h.text}
          </a>
        </li>
      ))}
    </ol>
  );

  return (
    <nav className={`toc${wide ? ' toc-column' : ''}`} aria-label="Table of contents">
      {wide ? (
        <>
          <h2 className="toc-title">Contents</h2>
          {list}
        </>
      ) : (
        <details className="toc-details">
          <summary className="toc-title">Contents</summary>
          {list}
        </details>
      )}
    </nav>
  );
}

function useCurrentSection(headings: Heading[]): string | undefined {
  const [current, setCurrent] = useState<string>();
  useEffect(() => {
    if (headings.length === 0 || typeof IntersectionObserver === 'undefined') return;
    const visible = new Set<string>();
    const observer = new IntersectionObserver(
      (entries) => {
        for (const e of entries) {
          if (e.isIntersecting) visible.add(e.target.id);
          else visible.delete(e.target.id);
        }
        const first = headings.find((h) => visible.has(h.id));
        if (first) setCurrent(first.id);
      },
      { rootMargin: '0px 0px -70% 0px' },
    );
    for (const h of headings) {
      const el = document.getElementById(h.id);
      if (el) observer.observe(el);
    }
    return () => observer.disconnect();
  }, [headings]);
  return current;
}

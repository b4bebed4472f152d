import { useEffect, useRef, useState } from 'react';
import { api } from '../api/client.js';
import type { Source } from '../api/types.js';
import { citationName, withoutMarks } from '../chat/source-label.js';
import { Icon } from '../ui/icons.js';
import { excerptAround, type Excerpt } from './revision-fallback.js';

/**
 * In place of a highlight, a source whose words are no longer in the report: the passage as it read in the
 * revision the answer was given on, with a little of its surroundings (fetched; the stored quote alone if that
 * fails). It stays in view while the report scrolls, until closed.
 */
export function EarlierPassage({ reportId, source, revision, onClose }: { reportId: string; source: Source; revision: number; onClose: () => void }) {
  const [excerpt, setExcerpt] = useState<Excerpt>({ before: '', quote: source.quote, after: '' });
  const region = useRef<HTMLElement>(null);

  useEffect(() => {
    region.current?.focus();
    const controller = new AbortController();
    api
      .getReport(reportId, controller.signal, revision)
      .then((earlier) => {
        // Only a text that holds the quote where the source says is the revision it points into.
        if (earlier.content.slice(source.start, source.end) === source.quote) setExcerpt(excerptAround(earlier.content, source));
      })
      .catch(() => {
        // The stored quote is shown already; the surroundings are a nicety.
      });
    return () => controller.abort();
  }, [reportId, source, revision]);

  return (
    <aside ref={region} className="earlier-passage" tabIndex={-1} aria-labelledby="earlier-passage-title">
      <div className="earlier-passage-head">
        <h2 id="earlier-passage-title">{citationName(source)}</h2>
        <button type="button" className="icon-button" aria-label="Close the earlier passage" onClick={onClose}>
          <Icon name="close" />
        </button>
      </div>
      <p className="earlier-passage-note">
        These words are no longer in the report. The answer was given on an earlier version (revision {revision}), where they read:
      </p>
      <blockquote className="earlier-passage-text">
        {withoutMarks(excerpt.before)}
        <mark>{withoutMarks(excerpt.quote)}</mark>
        {withoutMarks(excerpt.after)}
      </blockquote>
    </aside>
  );
}

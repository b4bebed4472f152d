import type { Message, Source } from '../api/types.js';
import type { SourceNavigation } from '../report/source-navigation.js';
import { citationName, revisionNote, shortQuote, sourcePlace } from './source-label.js';

/** A `[n]` marker in an answer's text: a control that shows its passage in the report. */
export function CitationMarker({ source, answerRevision, navigation }: { source: Source; answerRevision: number | null; navigation: SourceNavigation }) {
  return (
    <button
      type="button"
      className="citation"
      aria-label={citationName(source)}
      title={sourcePlace(source)}
      onClick={() => navigation.show(source, answerRevision)}
    >
      {source.n}
    </button>
  );
}

/**
 * Under an answer: what it was given when that was a selection of the report, whether it was given on another
 * revision of the report, and its sources, each a control that shows its passage.
 */
export function MessageSources({ message, navigation }: { message: Pick<Message, 'sources' | 'context' | 'reportRevision'>; navigation: SourceNavigation | undefined }) {
  const { context, sources } = message;
  const selection = context !== null && context.passages < context.totalPassages;
  const revision = navigation ? revisionNote(message.reportRevision, navigation.reportRevision) : undefined;
  if (!selection && !revision && sources.length === 0) return null;
  return (
    <div className="message-sources">
      {(selection || revision) && (
        <p className="message-context">
          {selection && (
            <span>
              Based on {context.passages} of {context.totalPassages} sections
            </span>
          )}
          {revision && <span className="message-revision">{revision}</span>}
        </p>
      )}
      {sources.length > 0 && (
        <>
          <h4 className="sources-title">Sources</h4>
          <ol className="source-list">
            {[...sources]
              .sort((a, b) => a.n - b.n)
              .map((source) => (
                <li key={source.n}>
                  <button
                    type="button"
                    className="source-item"
                    disabled={!navigation}
                    onClick={() => navigation?.show(source, message.reportRevision)}
                  >
                    <span className="source-n" aria-hidden="true">
                      {source.n}
                    </span>
                    <span className="visually-hidden">{citationName(source)}.</span>
                    <span className="source-heading" aria-hidden="true">
                      {sourcePlace(source)}
                    </span>
                    <span className="source-quote">“{shortQuote(source.quote)}”</span>
                  </button>
                </li>
              ))}
          </ol>
        </>
      )}
    </div>
  );
}

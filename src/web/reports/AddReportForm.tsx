import { useEffect, useId, useRef, useState, type ChangeEvent, type FormEvent } from 'react';
import { api } from '../api/client.js';
import { describeError } from '../api/errors.js';
import type { Report } from '../api/types.js';
import { firstHeading } from './first-heading.js';

const MAX_REPORT_BYTES = 2 * 1024 * 1024;

/** Adds a report from pasted Markdown or a .md file; the title defaults to the document's first heading. */
export function AddReportForm({ onCreated, onCancel }: { onCreated: (report: Report) => void; onCancel: () => void }) {
  const [title, setTitle] = useState('');
  const [content, setContent] = useState('');
  const [fileName, setFileName] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  const ids = { title: useId(), content: useId(), file: useId(), titleHint: useId(), error: useId() };
  const suggestedTitle = firstHeading(content) ?? fileName?.replace(/\.(md|markdown|txt)$/i, '');

  useEffect(() => heading.current?.focus(), []);

  const readFile = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    if (!file) return;
    if (file.size > MAX_REPORT_BYTES) {
      setError('That file is larger than 2 MiB, the most a report may hold.');
      return;
    }
    setContent(await file.text());
    setFileName(file.name);
    setError(undefined);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const finalTitle = title.trim() || suggestedTitle || 'Untitled report';
    if (!content.trim()) {
      setError('Paste the report’s Markdown or choose a .md file.');
      return;
    }
    if (new Blob([content]).size > MAX_REPORT_BYTES) {
      setError('This report is larger than 2 MiB, the most a report may hold.');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      onCreated(await api.createReport({ title: finalTitle, content }));
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };

  return (
    <section className="card add-report" aria-labelledby={`${ids.title}-heading`}>
      <h2 id={`${ids.title}-heading`} ref={heading} tabIndex={-1}>
        Add a report
      </h2>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <label className="field-label" htmlFor={ids.content}>
          Report text (Markdown)
        </label>
        <textarea
          id={ids.content}
          className="text-input report-source"
          rows={10}
          value={content}
          spellCheck={false}
          placeholder={'# Quarterly review\n\nPaste the report here…'}
          onChange={(e) => setContent(e.target.value)}
        />
        <div className="file-pick">
          <label htmlFor={ids.file} className="field-label-inline">
            or upload a .md file
          </label>
          <input id={ids.file} type="file" accept=".md,.markdown,.txt,text/markdown,text/plain" onChange={(e) => void readFile(e)} />
        </div>
        <label className="field-label" htmlFor={ids.title}>
          Title
        </label>
        <input
          id={ids.title}
          className="text-input"
          value={title}
          maxLength={500}
          placeholder={suggestedTitle ?? 'The report’s first heading'}
          aria-describedby={ids.titleHint}
          onChange={(e) => setTitle(e.target.value)}
        />
        <p id={ids.titleHint} className="field-hint">
          Leave empty to use the first heading{suggestedTitle ? `: “${suggestedTitle}”` : ''}.
        </p>
        {error && (
          <p id={ids.error} className="field-error" role="alert">
            {error}
          </p>
        )}
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={busy}>
            {busy ? 'Adding…' : 'Add report'}
          </button>
          <button type="button" className="button" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
}

import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api } from '../api/client.js';
import { describeError, isAbort } from '../api/errors.js';
import type { Report, Source } from '../api/types.js';
import { Link } from '../app/router.js';
import { ChatPanel } from '../chat/ChatPanel.js';
import { ReportSharing } from '../sharing/ReportSharing.js';
import { useMediaQuery } from '../ui/use-media-query.js';
import { EarlierPassage } from './EarlierPassage.js';
import type { Heading } from './headings.js';
import { ReportArticle, type PassageTarget } from './ReportArticle.js';
import { ReportMeta } from './ReportMeta.js';
import { SourceNavigationContext, type SourceNavigation } from './source-navigation.js';
import { TableOfContents } from './TableOfContents.js';
import { useAccessRefusals } from './use-access-refusals.js';

type Loaded = { status: 'loading' } | { status: 'failed'; message: string } | { status: 'ready'; report: Report };

/**
 * A report with its table of contents and, beside it (a drawer on narrow screens), one of its conversations (the
 * main one unless `conversationId` names another). An answer's
 * source, activated in the conversation, is shown in the report (the drawer closes to show it).
 */
export function ReportPage({ reportId, conversationId }: { reportId: string; conversationId: string | undefined }) {
  const [loaded, setLoaded] = useState<Loaded>({ status: 'loading' });
  const [headings, setHeadings] = useState<Heading[]>([]);
  // A link to a conversation opens it, on a narrow screen too.
  const [chatOpen, setChatOpen] = useState(conversationId !== undefined);
  const narrow = useMediaQuery('(max-width: 959px)');
  const openButton = useRef<HTMLButtonElement>(null);
  const [target, setTarget] = useState<PassageTarget>();
  const [missing, setMissing] = useState<PassageTarget>();
  const asks = useRef(0);
  const revision = loaded.status === 'ready' ? loaded.report.revision : undefined;

  const showSource = useCallback(
    (source: Source, answerRevision: number | null) => {
      setTarget({ source, revision: answerRevision, key: ++asks.current });
      if (narrow) setChatOpen(false);
    },
    [narrow],
  );
  const navigation = useMemo<SourceNavigation | undefined>(
    () => (revision === undefined ? undefined : { reportRevision: revision, show: showSource }),
    [revision, showSource],
  );

  useEffect(() => {
    const controller = new AbortController();
    api
      .getReport(reportId, controller.signal)
      .then((report) => {
        setLoaded({ status: 'ready', report });
        document.title = `${report.title} · report-chat`;
      })
      .catch((err: unknown) => {
        if (!isAbort(err)) setLoaded({ status: 'failed', message: describeError(err) });
      });
    return () => controller.abort();
  }, [reportId]);
  useAccessRefusals(reportId, setLoaded);

  // An open drawer is modal: the header behind it is out of reach too (the report is, through `inert` below).
  const modal = narrow && chatOpen && loaded.status === 'ready';
  useEffect(() => {
    const header = document.querySelector<HTMLElement>('.app-header');
    if (!header || !modal) return;
    header.inert = true;
    return () => {
      header.inert = false;
    };
  }, [modal]);

  if (loaded.status === 'loading') {
    return (
      <main className="page" id="main">
        <p role="status">Loading the report…</p>
      </main>
    );
  }
  if (loaded.status === 'failed') {
    return (
      <main className="page narrow" id="main">
        <h1>This report could not be opened</h1>
        <p role="alert">{loaded.message}</p>
        <p>
          <Link href="/">Back to your reports</Link>
        </p>
      </main>
    );
  }

  const { report } = loaded;
  const drawer = narrow;
  const closeChat = () => {
    setChatOpen(false);
    openButton.current?.focus();
  };

  return (
    <div className={`report-layout${drawer ? ' is-narrow' : ''}${drawer && chatOpen ? ' chat-open' : ''}`}>
      <main className="report-main" id="main" inert={drawer && chatOpen}>
        <nav className="breadcrumb" aria-label="Breadcrumb">
          <Link href="/">Reports</Link>
          <span aria-hidden="true"> / </span>
          <span aria-current="page">{report.title}</span>
        </nav>
        <ReportMeta report={report} />
        <ReportSharing report={report} />
        {missing?.revision != null && (
          <EarlierPassage
            key={missing.key}
            reportId={report.id}
            source={missing.source}
            revision={missing.revision}
            onClose={() => setMissing(undefined)}
          />
        )}
        <div className="report-body">
          <TableOfContents headings={headings} />
          <ReportArticle report={report} onHeadings={setHeadings} target={target} onMissing={setMissing} />
        </div>
      </main>
      <SourceNavigationContext.Provider value={navigation}>
        <ChatPanel
          report={report}
          conversationId={conversationId}
          headings={headings}
          mode={drawer ? 'drawer' : 'side'}
          open={!drawer || chatOpen}
          onClose={closeChat}
        />
      </SourceNavigationContext.Provider>
      {drawer && chatOpen && <div className="drawer-backdrop" aria-hidden="true" onClick={closeChat} />}
      {drawer && !chatOpen && (
        <button ref={openButton} type="button" className="chat-open-button" onClick={() => setChatOpen(true)} aria-haspopup="dialog">
          <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
            <path d="M4 5h16v10H9l-5 4z" fill="none" stroke="currentColor" strokeWidth="2" strokeLinejoin="round" />
          </svg>
          Ask about this report
        </button>
      )}
    </div>
  );
}

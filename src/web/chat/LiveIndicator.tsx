import type { LiveStatus } from './events-connection.js';

const LABEL: Record<LiveStatus, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  closed: 'Not live',
};

/** Whether other tabs' messages reach this one right now. */
export function LiveIndicator({ status }: { status: LiveStatus }) {
  return (
    <span className={`live live-${status}`} title={status === 'live' ? 'New messages from other tabs appear here as they are written' : undefined}>
      <span className="live-dot" aria-hidden="true" />
      {LABEL[status]}
    </span>
  );
}

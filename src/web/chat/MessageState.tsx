import { Icon, type IconName } from '../ui/icons.js';
import { displayState, type ChatMessage, type DisplayState } from './chat-message.js';

const LOOK: Record<DisplayState, { icon: IconName; label: string }> = {
  sending: { icon: 'spinner', label: 'Sending…' },
  queued: { icon: 'clock', label: 'Queued' },
  answering: { icon: 'spinner', label: 'Answering…' },
  saved: { icon: 'check', label: 'Saved' },
  'not-saved': { icon: 'alert', label: 'Not saved' },
  failed: { icon: 'x-circle', label: 'Failed' },
  stopped: { icon: 'square', label: 'Stopped' },
  interrupted: { icon: 'unplug', label: 'Interrupted' },
};

/** Why a message is in its state, when that is worth saying. */
function detail(m: ChatMessage, state: DisplayState): string | undefined {
  if (m.local?.kind === 'send-failed' || m.local?.kind === 'unsaved') return m.local.reason;
  if (state === 'queued') return 'waiting for the answer before it';
  if (state === 'failed' || state === 'interrupted') return m.error ?? undefined;
  return undefined;
}

/** A message and the retry it may offer: what MessageItem receives and passes on to MessageState. */
export interface MessageProps {
  message: ChatMessage;
  onRetry: (id: string) => void;
  canRetry: boolean;
}

/** The state of a message in words and an icon, with the retry it offers. */
export function MessageState({ message, onRetry, canRetry }: MessageProps) {
  const state = displayState(message);
  const { icon, label } = LOOK[state];
  const why = detail(message, state);
  const retryLabel =
    state === 'not-saved' ? 'Retry' : state === 'failed' ? 'Retry' : state === 'interrupted' ? 'Ask again' : undefined;
  return (
    <div className={`message-state state-${state}`}>
      <Icon name={icon} className={icon === 'spinner' ? 'spin' : undefined} />
      <span className="message-state-label">{label}</span>
      {retryLabel && canRetry && (
        <button type="button" className="link-button" onClick={() => onRetry(message.id)}>
          {retryLabel}
        </button>
      )}
      {why && <span className="message-state-detail">{why}</span>}
    </div>
  );
}

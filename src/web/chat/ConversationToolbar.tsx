import { useState, type ReactNode } from 'react';
import { api, type ExportFormat } from '../api/client.js';
import { describeError } from '../api/errors.js';
import type { ConversationRef } from '../api/types.js';
import { ConfirmDialog } from '../ui/ConfirmDialog.js';
import { Icon } from '../ui/icons.js';
import { explainClearError } from './clear-error.js';
import { downloadBlob } from './download.js';

/**
 * Export (Markdown or JSON) and, for who manages the conversation, clear it after a confirmation. `children` come
 * first in the row (the conversations menu).
 */
export function ConversationToolbar({
  conversation,
  messageCount,
  canClear,
  onClear,
  onMessage,
  children,
}: {
  conversation: ConversationRef;
  children?: ReactNode;
  messageCount: number;
  canClear: boolean;
  onClear: () => Promise<void>;
  onMessage: (text: string, tone: 'info' | 'error') => void;
}) {
  const [confirming, setConfirming] = useState(false);
  const [working, setWorking] = useState<string>();

  const exportAs = async (format: ExportFormat) => {
    setWorking(format);
    try {
      const { blob, filename } = await api.exportConversation(conversation, format);
      downloadBlob(blob, filename);
    } catch (err) {
      onMessage(`The export failed: ${describeError(err)}`, 'error');
    } finally {
      setWorking(undefined);
    }
  };

  const clear = async () => {
    setConfirming(false);
    setWorking('clear');
    try {
      await onClear();
      onMessage('The conversation was cleared.', 'info');
    } catch (err) {
      onMessage(explainClearError(err), 'error');
    } finally {
      setWorking(undefined);
    }
  };

  const empty = messageCount === 0;
  return (
    <div className="chat-toolbar" role="group" aria-label="Conversation actions">
      {children}
      <button type="button" className="button button-small" onClick={() => void exportAs('markdown')} disabled={empty || working !== undefined}>
        <Icon name="download" /> Markdown
      </button>
      <button type="button" className="button button-small" onClick={() => void exportAs('json')} disabled={empty || working !== undefined}>
        <Icon name="download" /> JSON
      </button>
      {canClear && (
        <button type="button" className="button button-small button-quiet-danger" onClick={() => setConfirming(true)} disabled={empty || working !== undefined}>
          <Icon name="trash" /> Clear
        </button>
      )}
      {confirming && (
        <ConfirmDialog
          title="Clear this conversation?"
          confirmLabel="Clear conversation"
          danger
          onCancel={() => setConfirming(false)}
          onConfirm={() => void clear()}
        >
          <p>
            All {messageCount === 1 ? 'the message' : `${messageCount} messages`} on screen, and any older ones, are deleted for
            everyone who can see this conversation. Export the conversation first if you want to keep it. This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </div>
  );
}

import { useId, useRef, useState, type FormEvent } from 'react';
import { api } from '../api/client.js';
import { describeError } from '../api/errors.js';
import type { TokenSummary } from '../api/types.js';
import { ConfirmDialog } from '../ui/ConfirmDialog.js';
import { CopyField } from '../ui/CopyField.js';
import { LoadFailed } from '../ui/LoadFailed.js';
import { NoticeLines, type Notice } from '../ui/NoticeLines.js';
import { TextField } from '../ui/TextField.js';
import { TimeAgo } from '../ui/TimeAgo.js';
import { useLoaded } from '../ui/use-loaded.js';

const tokenName = (t: TokenSummary) => t.name ?? 'Unnamed token';

/** Your API tokens: create one (its secret shown this once), see when each was last used, revoke one. */
export function TokenSection() {
  const { loaded, reload, update } = useLoaded(api.listTokens);
  const [name, setName] = useState('');
  const [created, setCreated] = useState<{ name: string; token: string }>();
  const [notice, setNotice] = useState<Notice>();
  const [busy, setBusy] = useState(false);
  const [revoking, setRevoking] = useState<TokenSummary>();
  const nameInput = useRef<HTMLInputElement>(null);
  const listHeading = useRef<HTMLHeadingElement>(null);
  const hintId = useId();

  const create = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setNotice(undefined);
    setCreated(undefined);
    try {
      const label = name.trim();
      const { token } = await api.createToken(label || undefined);
      setCreated({ name: label || 'Unnamed token', token });
      setNotice({ tone: 'status', text: `Token “${label || 'Unnamed token'}” created.` });
      setName('');
      reload();
    } catch (err) {
      setNotice({ tone: 'alert', text: `The token was not created: ${describeError(err)}` });
      nameInput.current?.focus();
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (token: TokenSummary) => {
    setRevoking(undefined);
    setNotice(undefined);
    try {
      await api.revokeToken(token.id);
      update(({ tokens }) => ({ tokens: tokens.filter((t) => t.id !== token.id) }));
      setNotice({ tone: 'status', text: `${tokenName(token)} was revoked: it no longer works.` });
    } catch (err) {
      setNotice({ tone: 'alert', text: `${tokenName(token)} was not revoked: ${describeError(err)}` });
    }
    // Its row, whose Revoke button had the focus, is gone.
    listHeading.current?.focus();
  };

  return (
    <section className="card account-section" aria-labelledby="tokens-title">
      <h2 id="tokens-title">API tokens</h2>
      <p className="field-hint">For scripts and agents: send one as <code>Authorization: Bearer …</code>. Each works until you revoke it.</p>
      <form className="inline-form" onSubmit={(e) => void create(e)} noValidate>
        <div className="inline-form-field">
          <TextField
            ref={nameInput}
            label="Token name"
            placeholder="e.g. laptop, nightly export"
            maxLength={200}
            autoComplete="off"
            value={name}
            onChange={(e) => setName(e.target.value)}
            describedBy={[hintId]}
          />
        </div>
        <button type="submit" className="button button-primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create token'}
        </button>
      </form>
      <p id={hintId} className="field-hint">
        A name to recognise it by in the list below.
      </p>
      {created && (
        <div className="callout callout-success secret-box">
          <CopyField label={`New token “${created.name}”`} value={created.token} hint="Copy it now: it is not shown again." />
        </div>
      )}
      <NoticeLines notice={notice} />
      <h3 ref={listHeading} tabIndex={-1} className="section-subtitle">
        Your tokens
      </h3>
      {loaded.status === 'loading' && <p>Loading your tokens…</p>}
      {loaded.status === 'failed' && <LoadFailed what="Your tokens" message={loaded.message} onRetry={reload} />}
      {loaded.status === 'ready' && loaded.value.tokens.length === 0 && <p className="field-hint">You have no API tokens.</p>}
      {loaded.status === 'ready' && loaded.value.tokens.length > 0 && (
        <ul className="item-list" aria-label="Your API tokens, newest first">
          {loaded.value.tokens.map((t) => (
            <li key={t.id} className="item-row">
              <span className="item-main">
                <span className="item-title">{tokenName(t)}</span>
                <span className="item-meta">
                  <span>
                    Created <TimeAgo iso={t.createdAt} />
                  </span>
                  <span>{t.lastUsedAt ? <>Last used <TimeAgo iso={t.lastUsedAt} /></> : 'Never used'}</span>
                </span>
              </span>
              <button type="button" className="button button-small button-quiet button-quiet-danger" onClick={() => setRevoking(t)}>
                Revoke<span className="visually-hidden"> {tokenName(t)}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {revoking && (
        <ConfirmDialog
          title={`Revoke “${tokenName(revoking)}”?`}
          confirmLabel="Revoke"
          danger
          onCancel={() => setRevoking(undefined)}
          onConfirm={() => void revoke(revoking)}
        >
          <p>Anything that uses it is refused from now on. This cannot be undone: create a new token if you need one.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}

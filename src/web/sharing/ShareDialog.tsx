import { useCallback, useId, useRef, useState } from 'react';
import { api } from '../api/client.js';
import { describeError } from '../api/errors.js';
import type { MemberDetail, MemberRole, Report } from '../api/types.js';
import { ConfirmDialog } from '../ui/ConfirmDialog.js';
import { Dialog } from '../ui/Dialog.js';
import { LoadFailed } from '../ui/LoadFailed.js';
import { NoticeLines, type Notice } from '../ui/NoticeLines.js';
import { personName } from '../ui/person-name.js';
import { useLoaded } from '../ui/use-loaded.js';
import { AddMemberForm } from './AddMemberForm.js';
import { MemberRow } from './MemberRow.js';
import { CAN } from './roles.js';

/** The owner's dialog: who has access, add someone by email, change a role, stop sharing with someone. */
export function ShareDialog({ report, onClose }: { report: Report; onClose: () => void }) {
  const { loaded, reload, update } = useLoaded(useCallback((signal?: AbortSignal) => api.listMembers(report.id, signal), [report.id]));
  const [notice, setNotice] = useState<Notice>();
  const [removing, setRemoving] = useState<MemberDetail>();
  const titleId = useId();
  const email = useRef<HTMLInputElement>(null);
  const listHeading = useRef<HTMLHeadingElement>(null);

  const replaceMembers = (change: (members: MemberDetail[]) => MemberDetail[]) => update((list) => ({ ...list, members: change(list.members) }));

  const added = (member: MemberDetail) => {
    replaceMembers((members) => [...members.filter((m) => m.userId !== member.userId), member]);
    setNotice({ tone: 'status', text: `Shared with ${personName(member)}, who can ${CAN[member.role]}.` });
  };

  const changeRole = async (member: MemberDetail, role: MemberRole) => {
    setNotice(undefined);
    try {
      await api.setMember(report.id, member.userId, role);
      replaceMembers((members) => members.map((m) => (m.userId === member.userId ? { ...m, role } : m)));
      setNotice({ tone: 'status', text: `${personName(member)} can now ${CAN[role]}.` });
    } catch (err) {
      setNotice({ tone: 'alert', text: `The role of ${personName(member)} was not changed: ${describeError(err)}` });
    }
  };

  const remove = async (member: MemberDetail) => {
    setRemoving(undefined);
    setNotice(undefined);
    try {
      await api.removeMember(report.id, member.userId);
      replaceMembers((members) => members.filter((m) => m.userId !== member.userId));
      setNotice({ tone: 'status', text: `${personName(member)} no longer has access.` });
    } catch (err) {
      setNotice({ tone: 'alert', text: `${personName(member)} still has access: ${describeError(err)}` });
    }
    // Their row (and its Remove button, which had the focus) may be gone: the list's heading takes the focus.
    listHeading.current?.focus();
  };

  return (
    <Dialog labelledBy={titleId} onClose={onClose} initialFocus={[email]} className="share-dialog">
      <div className="share-dialog-head">
        <h2 id={titleId} className="dialog-title">
          Share “{report.title}”
        </h2>
        <button type="button" className="button button-quiet button-small" onClick={onClose}>
          Close
        </button>
      </div>
      <p className="dialog-body">Editors ask questions in its conversations; viewers read the report and follow them live.</p>
      <AddMemberForm reportId={report.id} emailRef={email} onAdded={added} />
      <h3 ref={listHeading} className="share-list-heading" tabIndex={-1}>
        Who has access
      </h3>
      <NoticeLines notice={notice} />
      {loaded.status === 'loading' && <p>Loading…</p>}
      {loaded.status === 'failed' && <LoadFailed what="Who has access" message={loaded.message} onRetry={reload} />}
      {loaded.status === 'ready' && (
        <ul className="item-list member-list">
          <li className="member-row">
            <span className="member-who">
              <span className="member-name">{personName(loaded.value.owner)} (you)</span>
              {loaded.value.owner.name && loaded.value.owner.email && <span className="member-email">{loaded.value.owner.email}</span>}
            </span>
            <span className="member-owner">Owner</span>
          </li>
          {loaded.value.members.map((m) => (
            <MemberRow key={m.userId} member={m} onRole={(role) => void changeRole(m, role)} onRemove={() => setRemoving(m)} />
          ))}
        </ul>
      )}
      {loaded.status === 'ready' && loaded.value.members.length === 0 && <p className="field-hint">Nobody else yet.</p>}
      {removing && (
        <ConfirmDialog
          title={`Stop sharing with ${personName(removing)}?`}
          confirmLabel="Remove"
          danger
          onCancel={() => setRemoving(undefined)}
          onConfirm={() => void remove(removing)}
        >
          <p>They lose access at once: a page of this report they have open closes. You can share it with them again later.</p>
        </ConfirmDialog>
      )}
    </Dialog>
  );
}

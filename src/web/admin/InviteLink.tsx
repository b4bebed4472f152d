import type { Invite } from '../api/types.js';
import { CopyField } from '../ui/CopyField.js';
import { fullTime } from '../ui/format-time.js';

/** The link an invited person opens (InvitePage): the code in the fragment, which no request sends to a server. */
const inviteUrl = (invite: Invite): string => `${window.location.origin}/invite#${invite.code}`;

/** An invite link to hand over: it works once, until it expires. */
export function InviteLink({ invite }: { invite: Invite }) {
  return (
    <div className="callout callout-success secret-box">
      <CopyField label="Invite link" value={inviteUrl(invite)} hint={`It works once, until ${fullTime(invite.expiresAt)}. It is not shown again.`} />
    </div>
  );
}

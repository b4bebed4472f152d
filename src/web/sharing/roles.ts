import type { MemberRole } from '../api/types.js';

/** The roles a member can have, as the share dialog offers them. */
export const MEMBER_ROLES: ReadonlyArray<{ role: MemberRole; label: string }> = [
  { role: 'editor', label: 'Editor: can ask questions' },
  { role: 'viewer', label: 'Viewer: can only read' },
];

/** What a role lets its holder do, after "can": "Ana can now only read". */
export const CAN: Record<MemberRole, string> = { editor: 'ask questions', viewer: 'only read' };

import type { Conversation, Role } from '../api/types.js';

export interface ConversationRights {
  rename: boolean;
  /** Make private or shared again. */
  changeVisibility: boolean;
  delete: boolean;
  clear: boolean;
}

/**
 * Which of a conversation's actions to offer this user. The server decides (src/chat/access.ts, requireManager):
 * the report's owner manages the main conversation; another is managed by whoever started it, or by the report's
 * owner while it is shared. Only its creator is offered to change who sees it: the owner making someone's
 * conversation private would hide it from the owner too.
 */
export function conversationRights(
  conversation: Pick<Conversation, 'isMain' | 'createdBy'>,
  userId: string | undefined,
  role: Role,
): ConversationRights {
  const creator = userId !== undefined && conversation.createdBy === userId;
  const manager = conversation.isMain ? role === 'owner' : creator || role === 'owner';
  return { rename: manager, clear: manager, delete: manager && !conversation.isMain, changeVisibility: creator && !conversation.isMain };
}

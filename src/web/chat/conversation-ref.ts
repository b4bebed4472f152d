import type { ConversationRef } from '../api/types.js';

export type { ConversationRef };

/**
 * Which conversation a chat shows: the report's main one, named by the report's id (as /reports/:reportId names
 * it, and as the API's report routes take it), or any other by its own id.
 */
export const conversationRef = (reportId: string, conversationId: string | undefined): ConversationRef =>
  conversationId === undefined ? reportId : { conversationId };

/**
 * A name for the conversation that stays the same for every tab that shows it: what the tabs' shared events stream
 * (shared-events.ts) and a store are keyed by. The two kinds of ref cannot collide (`report:` / `conversation:`).
 */
export const conversationKey = (ref: ConversationRef): string =>
  typeof ref === 'string' ? `report:${ref}` : `conversation:${ref.conversationId}`;

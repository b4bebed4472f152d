import type { Sql } from './db.js';

/** An open events stream: who reads which conversation, and with which stored credential (none for a JWT). */
export interface StreamGrant {
  conversationId: string;
  userId: string;
  tokenId: string | null;
  sessionId: string | null;
}

/**
 * Of the given streams, the indexes of those that may go on: the user still sees the conversation (the view
 * conversation_access) and the credential that opened the stream still exists (an API token not revoked, a session
 * neither signed out nor expired), and the user is not disabled. Every stream in one statement.
 */
export async function grantsStillValid(sql: Sql, grants: readonly StreamGrant[]): Promise<Set<number>> {
  const rows = await sql<{ i: number }[]>`
    SELECT g.i
    FROM json_to_recordset(${JSON.stringify(grants.map((g, i) => ({ i, ...g })))}::text::json)
      AS g(i int, "conversationId" uuid, "userId" uuid, "tokenId" uuid, "sessionId" uuid)
    -- LIMIT keeps this a lookup per stream (two index probes) instead of a hash of the whole view.
    CROSS JOIN LATERAL (
      SELECT 1 FROM conversation_access a WHERE a.conversation_id = g."conversationId" AND a.user_id = g."userId" LIMIT 1
    ) AS seen
    WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = g."userId" AND u.disabled_at IS NOT NULL)
      AND (g."tokenId" IS NULL OR EXISTS (SELECT 1 FROM api_tokens t WHERE t.id = g."tokenId" AND t.user_id = g."userId"))
      AND (g."sessionId" IS NULL
           OR EXISTS (SELECT 1 FROM sessions s WHERE s.id = g."sessionId" AND s.user_id = g."userId" AND s.expires_at > now()))`;
  return new Set(rows.map((r) => r.i));
}

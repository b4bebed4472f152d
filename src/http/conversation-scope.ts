import { z } from 'zod';
import type { ConversationRef } from '../chat/access.js';
import { idParam, reportIdParam } from './route-parts.js';

/**
 * The conversation routes (messages, send, stop, events, export) are declared once and mounted twice: under
 * `/api/reports/{reportId}`, where they mean the report's main conversation (the version 1 routes), and under
 * `/api/conversations/{conversationId}` for any conversation. A scope is what differs between the two.
 */
export interface Scope<K extends 'reportId' | 'conversationId'> {
  /** The path parameter, and the path prefix `/{<key>}`. */
  key: K;
  path: `/{${K}}`;
  params: z.ZodObject<Record<K, typeof reportIdParam>>;
  /** The conversation the validated path parameters name (generic route code cannot name the key statically). */
  where(params: object): ConversationRef;
  /** The operation's id in this scope: the main scope keeps the version 1 ids. */
  operationId(base: string): string;
  tag: string;
  /** What a 404 means here. */
  notFound: string;
}

export const mainScope: Scope<'reportId'> = {
  key: 'reportId',
  path: '/{reportId}',
  params: z.object({ reportId: reportIdParam }),
  where: (p) => ({ reportId: (p as { reportId: string }).reportId }),
  operationId: (base) => base,
  tag: 'Conversation',
  notFound: 'No such report (visible to you).',
};

export const conversationIdParam = idParam("The conversation's id.");

export const conversationScope: Scope<'conversationId'> = {
  key: 'conversationId',
  path: '/{conversationId}',
  params: z.object({ conversationId: conversationIdParam }),
  where: (p) => ({ conversationId: (p as { conversationId: string }).conversationId }),
  operationId: (base) => `${base}InConversation`,
  tag: 'Conversations',
  notFound: 'No such conversation (visible to you).',
};

export type AnyScope = Scope<'reportId'> | Scope<'conversationId'>;

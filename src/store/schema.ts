import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  customType,
  index,
  integer,
  jsonb,
  pgSequence,
  pgTable,
  pgView,
  primaryKey,
  smallint,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import type { StoredContext, StoredSource } from './types.js';

// The schema drizzle-kit generates migrations from. Queries are written with postgres.js (the other files of src/store) so that
// the locking order of each transaction is explicit; this file is the single source of the table shapes.

// The values the CHECK constraints allow, as the row types' unions (no effect on the generated SQL).
const REPORT_STATUSES = ['generating', 'complete', 'failed'] as const;
const MESSAGE_ROLES = ['user', 'assistant'] as const;
const MESSAGE_STATUSES = ['queued', 'streaming', 'complete', 'failed', 'stopped', 'interrupted'] as const;

const bytea = customType<{ data: Buffer }>({ dataType: () => 'bytea' });
// postgres.js returns timestamptz as a Date: the row types (src/store/types.ts) say so.
const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    // Null for a user known only by a JWT without an email claim.
    email: text('email'),
    name: text('name'),
    passwordHash: text('password_hash'),
    createdAt: ts('created_at').notNull().defaultNow(),
    // Set by the administrator: no credential of a disabled user works; what they wrote stays.
    disabledAt: ts('disabled_at'),
  },
  // Emails are unique regardless of case: a rule the database enforces, not the code.
  (t) => [uniqueIndex('users_email_lower_key').on(sql`lower(${t.email})`)],
);

/**
 * A person known by a JWT: (issuer, subject) mapped to a user id of our own, never to a local user. issuer is the
 * token's `iss` ('' when it has none); NULL for an identity recorded before issuers were (migration 0003).
 */
export const externalIdentities = pgTable(
  'external_identities',
  {
    userId: uuid('user_id')
      .primaryKey()
      .references(() => users.id, { onDelete: 'cascade' }),
    issuer: text('issuer'),
    subject: text('subject').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [unique('external_identities_issuer_subject_key').on(t.issuer, t.subject).nullsNotDistinct()],
);

export const apiTokens = pgTable(
  'api_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name'),
    tokenHash: bytea('token_hash').notNull().unique(),
    createdAt: ts('created_at').notNull().defaultNow(),
    lastUsedAt: ts('last_used_at'),
  },
  (t) => [index('api_tokens_user_idx').on(t.userId)],
);

export const reports = pgTable(
  'reports',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    ownerId: uuid('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    title: text('title').notNull(),
    content: text('content').notNull(),
    status: text('status', { enum: REPORT_STATUSES }).notNull().default('complete'),
    // Grows by one with each change of content (a trigger, migration 0005); every revision is in report_revisions.
    revision: integer('revision').notNull().default(1),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('reports_owner_idx').on(t.ownerId, t.createdAt),
    check('reports_status_check', sql`${t.status} IN ('generating', 'complete', 'failed')`),
  ],
);

export const conversations = pgTable(
  'conversations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    reportId: uuid('report_id')
      .notNull()
      .references(() => reports.id, { onDelete: 'cascade' }),
    // The report's main conversation: what the /api/reports/{reportId}/messages routes mean. Shared, never deleted.
    isMain: boolean('is_main').notNull().default(true),
    title: text('title').notNull().default('Main conversation'),
    visibility: text('visibility', { enum: ['shared', 'private'] }).notNull().default('shared'),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    // A fork: its messages 1..forked_from_seq are copies of that conversation's (migration 0010).
    forkedFromConversationId: uuid('forked_from_conversation_id'),
    forkedFromSeq: bigint('forked_from_seq', { mode: 'number' }),
    // The creating request's body, to tell a replay from a reuse of the id.
    createRequest: jsonb('create_request'),
    // The next seq to hand out. Seqs are never reused, not even after the conversation is cleared.
    nextSeq: bigint('next_seq', { mode: 'number' }).notNull().default(1),
    // Grows by one with every change to a message; the version a change got is its message's changed_version.
    version: bigint('version', { mode: 'number' }).notNull().default(0),
    messageCount: integer('message_count').notNull().default(0),
    clearedVersion: bigint('cleared_version', { mode: 'number' }).notNull().default(0),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    check('conversations_next_seq_check', sql`${t.nextSeq} >= 1`),
    check('conversations_visibility_check', sql`${t.visibility} IN ('shared', 'private')`),
    check('conversations_main_shared_check', sql`NOT ${t.isMain} OR ${t.visibility} = 'shared'`),
    check('conversations_fork_check', sql`(${t.forkedFromConversationId} IS NULL) = (${t.forkedFromSeq} IS NULL)`),
    uniqueIndex('conversations_main_key').on(t.reportId).where(sql`${t.isMain}`),
    index('conversations_report_idx').on(t.reportId, t.updatedAt.desc()),
    index('conversations_creator_idx').on(t.reportId, t.createdBy),
  ],
);

export const messages = pgTable(
  'messages',
  {
    conversationId: uuid('conversation_id')
      .notNull()
      .references(() => conversations.id, { onDelete: 'cascade' }),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    id: uuid('id').notNull().unique(),
    role: text('role', { enum: MESSAGE_ROLES }).notNull(),
    content: text('content').notNull().default(''),
    status: text('status', { enum: MESSAGE_STATUSES }).notNull(),
    replyTo: uuid('reply_to'),
    error: text('error'),
    model: text('model'),
    inputTokens: integer('input_tokens'),
    outputTokens: integer('output_tokens'),
    // The member who wrote a user message (null for answers, and for messages stored before authors were).
    authorId: uuid('author_id').references(() => users.id, { onDelete: 'set null' }),
    cacheReadTokens: integer('cache_read_tokens'),
    cacheWriteTokens: integer('cache_write_tokens'),
    // The verified passages the answer cites ({n, start, end, quote, heading}), offsets into the content of the
    // report's revision `report_revision`; stored with the final text, in the same call.
    sources: jsonb('sources').$type<StoredSource[]>().notNull().default(sql`'[]'::jsonb`),
    // What the answer was given ({reportChars, sentChars, passages, totalPassages, historyTurns}); null for a
    // question, and for an answer that never reached the model.
    context: jsonb('context').$type<StoredContext>(),
    reportRevision: integer('report_revision'),
    changedVersion: bigint('changed_version', { mode: 'number' }).notNull(),
    // A fork's copy: the id of the message first written (no foreign key: the original may be deleted).
    copiedFrom: uuid('copied_from'),
    // What the pieces of this answer are keyed by while it streams (migration 0014): taken in order when the row is
    // written, so the answers in progress sit side by side in the pieces' index. NULL only in rows written before it.
    pieceKey: bigint('piece_key', { mode: 'number' }).default(sql`nextval('answer_piece_keys')`),
    leaseOwner: text('lease_owner'),
    leaseExpiresAt: ts('lease_expires_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'messages_pkey', columns: [t.conversationId, t.seq] }),
    // Resuming an events stream reads "changed after version v" of one conversation.
    uniqueIndex('messages_changed_version_key').on(t.conversationId, t.changedVersion),
    // The queue check and the sweeper only ever look at answers in progress: a small partial index. Nothing indexes
    // lease_expires_at, so renewing a lease is a HOT update (migration 0007, which also sets fillfactor 90).
    index('messages_active_idx')
      .on(t.conversationId, t.seq)
      .where(sql`${t.status} IN ('queued', 'streaming')`),
    check('messages_role_check', sql`${t.role} IN ('user', 'assistant')`),
    check(
      'messages_status_check',
      sql`${t.status} IN ('queued', 'streaming', 'complete', 'failed', 'stopped', 'interrupted')`,
    ),
    check('messages_user_complete_check', sql`${t.role} = 'assistant' OR ${t.status} = 'complete'`),
    check('messages_seq_check', sql`${t.seq} >= 1`),
    // NOT VALID in the database (migration 0014): rows finished before it keep NULL.
    check('messages_piece_key_check', sql`${t.status} NOT IN ('queued', 'streaming') OR ${t.pieceKey} IS NOT NULL`),
  ],
);

/**
 * What the checkpoints of an answer still streaming saved, one row per checkpoint that brought something new: the
 * text and the sources that arrived since the previous one. Readers append them to the message's own (empty) text
 * and sources (migration 0007); the final commit, or the sweeper, writes the whole text into the message row. Two
 * tables of the same shape, one per generation, never deleted from row by row: the old generation is truncated once
 * no answer that could have pieces in it streams (migration 0013).
 */
const answerPieceColumns = () => ({
  // The answer's messages.piece_key (migration 0014).
  pieceKey: bigint('piece_key', { mode: 'number' }).notNull(),
  // Where the piece starts: the answer's text length (UTF-16 code units) and its number of sources saved before it.
  textOffset: integer('text_offset').notNull(),
  sourceOffset: integer('source_offset').notNull(),
  text: text('text').notNull(),
  // NULL when the piece brings no sources.
  sources: jsonb('sources'),
});
const answerPiecesTable = (name: 'answer_pieces_0' | 'answer_pieces_1') =>
  pgTable(
    name,
    answerPieceColumns(),
    (t) => [
      // No foreign key to messages: its check would lock the message row at every checkpoint (migration 0013); a
      // piece outlives its answer until its generation's table is truncated.
      primaryKey({ name: `${name}_pkey`, columns: [t.pieceKey, t.textOffset, t.sourceOffset] }),
    ],
  );
export const answerPieces0 = answerPiecesTable('answer_pieces_0');
export const answerPieces1 = answerPiecesTable('answer_pieces_1');

/**
 * Both generations of pieces (migrations 0013, 0014): what every reader reads. (The view answer_pieces, by
 * conversation and seq, is the previous release's, kept by migration 0014 for a rolling deploy only.)
 */
export const answerPieceRows = pgView('answer_piece_rows', answerPieceColumns()).existing();

/** Where messages.piece_key comes from (migration 0014). */
export const answerPieceKeys = pgSequence('answer_piece_keys');

/**
 * Which table of pieces takes new ones and where its rotation is (migration 0013, rotate_answer_pieces): the other
 * is empty, or was switched away from at switched_at, seen switched by horizon, and found drained at drained_at.
 */
export const answerPieceGeneration = pgTable(
  'answer_piece_generation',
  {
    id: boolean('id').primaryKey().default(true),
    current: smallint('current').notNull(),
    switchedAt: ts('switched_at').notNull(),
    otherEmpty: boolean('other_empty').notNull(),
    horizon: ts('horizon'),
    drainedAt: ts('drained_at'),
  },
  (t) => [
    check('answer_piece_generation_id_check', sql`${t.id}`),
    check('answer_piece_generation_current_check', sql`${t.current} IN (0, 1)`),
  ],
);

/** Every revision of every report's content, the current one included: sources point into the one they name. */
export const reportRevisions = pgTable(
  'report_revisions',
  {
    reportId: uuid('report_id')
      .notNull()
      .references(() => reports.id, { onDelete: 'cascade' }),
    revision: integer('revision').notNull(),
    content: text('content').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'report_revisions_pkey', columns: [t.reportId, t.revision] }),
    check('report_revisions_revision_check', sql`${t.revision} >= 1`),
  ],
);

export const reportMembers = pgTable(
  'report_members',
  {
    reportId: uuid('report_id')
      .notNull()
      .references(() => reports.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'report_members_pkey', columns: [t.reportId, t.userId] }),
    index('report_members_user_idx').on(t.userId),
    check('report_members_role_check', sql`${t.role} IN ('viewer', 'editor')`),
  ],
);

/** Who may see a report (migration 0008): its owner, and its members with their roles; one row per report and user. */
export const reportAccess = pgView('report_access', {
  reportId: uuid('report_id').notNull(),
  userId: uuid('user_id').notNull(),
  role: text('role').notNull(),
}).existing();

/** Who may see a conversation (migration 0010): members see the shared ones of their reports and their own private ones. */
export const conversationAccess = pgView('conversation_access', {
  conversationId: uuid('conversation_id').notNull(),
  reportId: uuid('report_id').notNull(),
  userId: uuid('user_id').notNull(),
  role: text('role').notNull(),
}).existing();

export const sessions = pgTable(
  'sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    // SHA-256 of the cookie's secret: a leaked table does not leak sessions.
    tokenHash: bytea('token_hash').notNull().unique(),
    createdAt: ts('created_at').notNull().defaultNow(),
    expiresAt: ts('expires_at').notNull(),
  },
  (t) => [index('sessions_user_idx').on(t.userId), index('sessions_expires_idx').on(t.expiresAt)],
);

/** The administrator's sign-ins to the admin page: a one-time link, exchanged for a session (migration 0011). */
export const adminSessions = pgTable(
  'admin_sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    kind: text('kind', { enum: ['link', 'session'] }).notNull(),
    secretHash: bytea('secret_hash').notNull().unique(),
    createdAt: ts('created_at').notNull().defaultNow(),
    expiresAt: ts('expires_at').notNull(),
  },
  (t) => [index('admin_sessions_expires_idx').on(t.expiresAt), check('admin_sessions_kind_check', sql`${t.kind} IN ('link', 'session')`)],
);

/** A one-use link for a new user to choose a password (migration 0011). */
export const invites = pgTable(
  'invites',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    codeHash: bytea('code_hash').notNull().unique(),
    createdAt: ts('created_at').notNull().defaultNow(),
    expiresAt: ts('expires_at').notNull(),
  },
  (t) => [index('invites_user_idx').on(t.userId)],
);

/** Fixed-window counters shared by every instance: turns per user per hour/day, failed sign-ins. */
export const rateLimitWindows = pgTable(
  'rate_limit_windows',
  {
    key: text('key').notNull(),
    windowStart: ts('window_start').notNull(),
    count: integer('count').notNull(),
  },
  (t) => [primaryKey({ name: 'rate_limit_windows_pkey', columns: [t.key, t.windowStart] }), index('rate_limit_windows_start_idx').on(t.windowStart)],
);

/**
 * Failed sign-ins of one account from one address, for growing delays (src/chat/sign-in.ts). An attempt counts from
 * the moment it starts until it succeeds, so parallel guesses cannot slip past the delay. Migration 0006 also
 * defines `sign_in_retry_at()`, the delay rule.
 */
export const signInFailures = pgTable(
  'sign_in_failures',
  {
    account: text('account').notNull(),
    address: text('address').notNull(),
    failures: integer('failures').notNull(),
    lastFailureAt: ts('last_failure_at').notNull(),
  },
  (t) => [primaryKey({ name: 'sign_in_failures_pkey', columns: [t.account, t.address] }), index('sign_in_failures_last_failure_idx').on(t.lastFailureAt)],
);

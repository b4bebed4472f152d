import { randomUUID } from 'node:crypto';
import { createReport } from '../../src/store/reports.js';
import type { Sql } from '../../src/store/db.js';
import type { ReserveInput } from '../../src/store/turns.js';
import { createUser } from '../../src/store/users.js';

/** A user and a report with an empty conversation; returns the ids a test needs. */
export async function seedReport(sql: Sql, content = '# Report\n\nSome findings.') {
  const user = await createUser(sql, { email: `u-${randomUUID()}@example.test`, name: 'Test', passwordHash: null });
  const report = await createReport(sql, { ownerId: user.id, title: 'A report', content, status: 'complete' });
  const [conv] = await sql<{ id: string }[]>`SELECT id FROM conversations WHERE report_id = ${report.id}`;
  if (!conv) throw new Error('report has no conversation');
  return { userId: user.id, reportId: report.id, conversationId: conv.id };
}

/** What reserveTurn needs for one fresh turn: new ids, a lease, and a start (the common path), unless overridden. */
export const turnInput = (conversationId: string, over: Partial<ReserveInput> = {}): ReserveInput => ({
  conversationId,
  userMessageId: randomUUID(),
  assistantMessageId: randomUUID(),
  content: 'question',
  maxMessages: 10_000,
  leaseOwner: 'owner-a',
  leaseMs: 60_000,
  start: { model: 'test' },
  ...over,
});

/** A short incident report, the one most tests and the benchmarks chat about. */
export const SAMPLE_REPORT = `# Connection pool incident

## Summary

On 12 March the API returned errors for 47 minutes because the PostgreSQL connection pool was exhausted.

## Root cause

Transactions held their connection while calling the payment provider, which answered in 30 seconds instead of 300 ms.

## Recommendations

1. Move external calls out of transactions.
2. Alert when pool wait time exceeds 100 ms.
`;

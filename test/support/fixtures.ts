import { randomUUID } from 'node:crypto';
import { createReport } from '../../src/store/reports.js';
import type { Sql } from '../../src/store/db.js';
import { createUser } from '../../src/store/users.js';

/** A user and a report with an empty conversation; returns the ids a test needs. */
export async function seedReport(sql: Sql, content = '# Report\n\nSome findings.') {
  const user = await createUser(sql, { email: `u-${randomUUID()}@example.test`, name: 'Test', passwordHash: null });
  const report = await createReport(sql, { ownerId: user.id, title: 'A report', content, status: 'complete' });
  const [conv] = await sql<{ id: string }[]>`SELECT id FROM conversations WHERE report_id = ${report.id}`;
  if (!conv) throw new Error('report has no conversation');
  return { userId: user.id, reportId: report.id, conversationId: conv.id };
}

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

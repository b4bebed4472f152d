import { randomUUID } from 'node:crypto';
import { SAMPLE_REPORT } from '../../test/support/fixtures.js';
import { jsonRequest } from './http-client.js';

export const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';

// The report the HTTP suite chats about: the tests' sample incident report.
export const BENCH_REPORT = SAMPLE_REPORT;

/**
 * The app's configuration for a bench instance: what the measured targets assume (the fake model, no turn limits,
 * no demo data, a free port), everything else at its production default.
 */
export function appEnv(databaseUrl: string, modelBaseUrl: string, dataDir: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    LLM_PROVIDER: 'openai-compatible',
    LLM_BASE_URL: modelBaseUrl,
    LLM_MODEL: 'bench-model',
    LLM_API_KEY: 'bench-key',
    RATE_LIMIT_PER_HOUR: '0',
    RATE_LIMIT_PER_DAY: '0',
    SEED_DEMO: 'false',
    PORT: '0',
    HOST: '127.0.0.1',
    ADMIN_TOKEN,
    DATA_DIR: dataDir,
  };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export async function createUser(baseUrl: string): Promise<{ id: string; token: string }> {
  const body = await jsonRequest<{ user: { id: string }; token: string }>(
    'POST',
    `${baseUrl}/api/users`,
    { email: `bench-${randomUUID()}@example.test` },
    bearer(ADMIN_TOKEN),
    201,
  );
  return { id: body.user.id, token: body.token };
}

export async function createReport(baseUrl: string, token: string, title: string): Promise<string> {
  const body = await jsonRequest<{ id: string }>('POST', `${baseUrl}/api/reports`, { title, content: BENCH_REPORT }, bearer(token), 201);
  return body.id;
}

export async function addMember(baseUrl: string, ownerToken: string, reportId: string, userId: string, role: 'viewer' | 'editor'): Promise<void> {
  await jsonRequest('PUT', `${baseUrl}/api/reports/${reportId}/members/${userId}`, { role }, bearer(ownerToken), 200);
}

/** Runs `fn` over `items` with at most `limit` at a time (setup calls: bounded, and faster than one by one). */
export async function inBatches<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '../config/config.js';
import { createAnswerModel } from '../llm/index.js';
import type { Logger } from '../log/logger.js';
import { createMetrics, type Metrics } from '../metrics/metrics.js';
import type { Sql } from '../store/db.js';
import { createAccessWatch } from './access-watch.js';
import { createLocalBus } from './bus.js';
import { createCredentialCache } from './credential-cache.js';
import { createPgBus, type PgBusOptions } from './pg-bus.js';
import type { ChatContext } from './context.js';
import { TurnEngine } from './turn-engine.js';

export const newInstanceId = () => `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;

/**
 * The domain's wiring for one process: bus, model, engine. With `databaseUrl` the bus reaches every instance on that
 * database (PostgreSQL LISTEN/NOTIFY, src/chat/pg-bus.ts); without it, only this process.
 */
export function createChatContext(input: {
  config: Config;
  sql: Sql;
  log: Logger;
  instanceId?: string;
  metrics?: Metrics;
  databaseUrl?: string;
  /** Timings for tests that need a slower queue poll or bus (the defaults are production's). */
  tuning?: {
    queuePollMs?: number;
    /** How often open events streams re-check their access (5 s). */
    accessCheckMs?: number;
    bus?: Pick<PgBusOptions, 'resyncMs' | 'reconnectBackoffMs'>;
  };
}): ChatContext {
  const { config, sql, log } = input;
  const metrics = input.metrics ?? createMetrics();
  const instanceId = input.instanceId ?? newInstanceId();
  const onListenerError = (err: unknown) => log.error({ err }, 'event listener failed');
  const bus = input.databaseUrl
    ? createPgBus({ url: input.databaseUrl, sql, instanceId, log, onListenerError, ...input.tuning?.bus })
    : createLocalBus(onListenerError);
  const engine = new TurnEngine({
    sql,
    bus,
    model: createAnswerModel(config.llm),
    instanceId,
    leaseMs: config.turnLeaseMs,
    contextMaxTokens: config.contextMaxTokens,
    log,
    metrics,
    queuePollMs: input.tuning?.queuePollMs,
  });
  metrics.observe({ queuedAnswers: () => engine.queuedCount(), activeAnswers: () => engine.activeCount() });
  const credentials = createCredentialCache(bus);
  const access = createAccessWatch(sql, bus, log, input.tuning?.accessCheckMs, credentials.forget);
  return { config, sql, bus, engine, instanceId, log, metrics, access, credentials };
}

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '../config/config.js';
import { createAnswerModel } from '../llm/index.js';
import type { Logger } from '../log/logger.js';
import { createMetrics, type Metrics } from '../metrics/metrics.js';
import type { Sql } from '../store/db.js';
import { createLocalBus } from './bus.js';
import type { ChatContext } from './context.js';
import { TurnEngine } from './turn-engine.js';

export const newInstanceId = () => `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;

/** The domain's wiring for one process: bus, model, engine. */
export function createChatContext(input: { config: Config; sql: Sql; log: Logger; instanceId?: string; metrics?: Metrics }): ChatContext {
  const { config, sql, log } = input;
  const metrics = input.metrics ?? createMetrics();
  const instanceId = input.instanceId ?? newInstanceId();
  const bus = createLocalBus((err) => log.error({ err }, 'event listener failed'));
  const engine = new TurnEngine({
    sql,
    bus,
    model: createAnswerModel(config.llm),
    instanceId,
    leaseMs: config.turnLeaseMs,
    contextMaxTokens: config.contextMaxTokens,
    log,
    metrics,
  });
  metrics.observe({ queuedAnswers: () => engine.queuedCount(), activeAnswers: () => engine.activeCount() });
  return { config, sql, bus, engine, instanceId, log, metrics };
}

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The process's Prometheus metrics (prom-client), in a registry of its own so that several app instances in one
 * process (tests, embedding) do not collide. Served as text at GET /metrics.
 */
export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route'>;
  turns: Counter<'status' | 'saved'>;
  timeToFirstToken: Histogram;
  turnDuration: Histogram;
  dbErrors: Counter<'class'>;
  sweptAnswers: Counter;
  sweeps: Counter<'result'>;
  /** Saves of a streaming answer's text so far (each also keeps its lease alive), by result: saved, lease-lost, failed. */
  checkpoints: Counter<'result'>;
  /** Statements that checkpointed answers, one per tick for all of an instance's answers, by result: ok, failed. */
  checkpointStatements: Counter<'result'>;
  /** References the model made that matched no passage of the report: dropped, never shown as sources. */
  citationsRejected: Counter;
  /** Tokens of finished answers as the provider counted them, by type: input, output, cache_read, cache_write. */
  modelTokens: Counter<'type'>;
  /** Registers the functions that report current gauges (open streams, queue length). */
  observe(gauges: { openEventStreams?: () => number; queuedAnswers?: () => number; activeAnswers?: () => number }): void;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'report_chat_' });
  const sources: { openEventStreams?: () => number; queuedAnswers?: () => number; activeAnswers?: () => number } = {};
  const gauge = (name: string, help: string, read: () => number | undefined) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read() ?? 0);
      },
    });
  gauge('report_chat_open_event_streams', 'Open GET …/events streams on this instance.', () => sources.openEventStreams?.());
  gauge('report_chat_queued_answers', 'Answers of this instance waiting for an earlier answer of their conversation.', () => sources.queuedAnswers?.());
  gauge('report_chat_active_answers', 'Answers this instance is generating or waiting to generate.', () => sources.activeAnswers?.());
  return {
    registry,
    httpRequests: new Counter({
      name: 'report_chat_http_requests_total',
      help: 'HTTP requests by route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'report_chat_http_request_duration_seconds',
      help: 'Time to the response headers (streams: to the first byte), by route pattern.',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    turns: new Counter({
      name: 'report_chat_turns_total',
      help: 'Answers ended by this instance, by final status and whether the final commit succeeded.',
      labelNames: ['status', 'saved'],
      registers: [registry],
    }),
    timeToFirstToken: new Histogram({
      name: 'report_chat_time_to_first_token_seconds',
      help: 'From the answer starting (after any queue) to its first text from the model.',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32],
      registers: [registry],
    }),
    turnDuration: new Histogram({
      name: 'report_chat_turn_duration_seconds',
      help: 'From the turn being reserved to its final commit.',
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers: [registry],
    }),
    dbErrors: new Counter({
      name: 'report_chat_db_errors_total',
      help: 'Database errors by SQLSTATE class (08 connection, 40 transaction rollback, 57 operator intervention; client = the driver).',
      labelNames: ['class'],
      registers: [registry],
    }),
    sweptAnswers: new Counter({
      name: 'report_chat_swept_answers_total',
      help: 'Answers marked interrupted by this instance after their lease expired.',
      registers: [registry],
    }),
    sweeps: new Counter({
      name: 'report_chat_sweeps_total',
      help: 'Sweeper runs by result.',
      labelNames: ['result'],
      registers: [registry],
    }),
    checkpoints: new Counter({
      name: 'report_chat_answer_checkpoints_total',
      help: 'Checkpoints of streaming answers (the text since the last one saved, the lease kept alive) by result: saved, lease-lost, failed.',
      labelNames: ['result'],
      registers: [registry],
    }),
    checkpointStatements: new Counter({
      name: 'report_chat_checkpoint_statements_total',
      help: 'Statements that checkpointed streaming answers (one per tick, for every answer of the instance) by result: ok, failed.',
      labelNames: ['result'],
      registers: [registry],
    }),
    citationsRejected: new Counter({
      name: 'report_chat_citations_rejected_total',
      help: 'Citations the model made that matched no passage of the report, dropped before reaching any client.',
      registers: [registry],
    }),
    modelTokens: new Counter({
      name: 'report_chat_model_tokens_total',
      help: 'Tokens of completed answers as the provider reported them, by type (input, output, cache_read, cache_write).',
      labelNames: ['type'],
      registers: [registry],
    }),
    observe(gauges) {
      Object.assign(sources, gauges);
    },
  };
}

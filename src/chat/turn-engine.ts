import { setTimeout as sleep } from 'node:timers/promises';
import { answerEvents, buildModelInput, type AnswerModel, type AnswerUsage, type ContextRecord, type MessageAuthor } from '../llm/index.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { sqlStateClass } from '../store/pg-errors.js';
import type { Sql } from '../store/db.js';
import { readContextHistory, readMessageBySeq, type ContextMessage } from '../store/history.js';
import { PATIENT_RETRY, QUICK_RETRY, withRetry } from '../store/retry.js';
import {
  countActiveBefore,
  finishAnswer,
  interruptQueuedAnswer,
  renewQueuedLease,
  startAnswer,
  stopQueuedAnswer,
  type AnswerRef,
} from '../store/turns.js';
import type { MessageRow, TerminalStatus } from '../store/types.js';
import { isTerminal } from '../store/types.js';
import type { EventBus } from './bus.js';
import { Checkpointer } from './checkpointer.js';
import { LiveTurn, type TurnOutcome } from './live-turn.js';

export interface TurnEngineDeps {
  sql: Sql;
  bus: EventBus;
  model: AnswerModel;
  instanceId: string;
  leaseMs: number;
  contextMaxTokens: number;
  log: Logger;
  /** How often the text so far is saved and the lease kept alive; at most a third of the lease (checkpointAnswers relies on it). */
  checkpointMs?: number;
  /** Fallback poll while queued, in case a wake-up notification was missed. */
  queuePollMs?: number;
  metrics?: Metrics;
}

export interface TurnToRun {
  conversationId: string;
  reportId: string;
  reportTitle: string;
  /** The revision whose content `reportContent` is: the answer's sources point into it. */
  reportRevision: number;
  reportContent: string;
  question: string;
  assistant: MessageRow;
}

/** How generation ended, and what the final commit stores beside the text and the sources. */
interface Generated extends AnswerUsage {
  status: TerminalStatus;
  error: string | null;
  /** Absent when the model was never called. */
  context?: ContextRecord;
}

type EndReason = 'stop' | 'lost-lease' | 'shutdown';

/**
 * Generates answers (DESIGN.md "A turn", steps 3 to 6) independently of any HTTP request: a client that goes away
 * only stops following. One engine per process; it owns the leases it took under `instanceId`.
 */
export class TurnEngine {
  private readonly live = new Map<string, LiveTurn>();
  private readonly waiting = new Set<string>();
  private readonly checkpointer: Checkpointer;
  private readonly queuePollMs: number;
  private closed = false;

  constructor(private readonly deps: TurnEngineDeps) {
    this.checkpointer = new Checkpointer({
      sql: deps.sql,
      owner: deps.instanceId,
      leaseMs: deps.leaseMs,
      intervalMs: Math.min(deps.checkpointMs ?? 1_000, Math.floor(deps.leaseMs / 3)),
      log: deps.log,
      metrics: deps.metrics,
    });
    this.queuePollMs = deps.queuePollMs ?? 1_000;
  }

  /** The answer being generated here, if any: followers read its exact text so far. */
  liveTurn(assistantMessageId: string): LiveTurn | undefined {
    return this.live.get(assistantMessageId);
  }

  get modelId(): string {
    return this.deps.model.id;
  }

  activeCount(): number {
    return this.live.size;
  }

  /** Answers of this process waiting behind an earlier answer of their conversation. */
  queuedCount(): number {
    return this.waiting.size;
  }

  /**
   * Starts generating a freshly reserved answer; the returned turn can be followed and awaited. A `queued` answer
   * waits for the answers before it and is then started; one that reserveTurn already started (`streaming` under
   * this instance's lease) is generated at once.
   */
  start(turn: TurnToRun): LiveTurn {
    // One answer runs once per process: a second start (a resend adopting an orphaned answer while the request that
    // reserved it is still retrying) gets the running turn.
    const running = this.live.get(turn.assistant.id);
    if (running) return running;
    const live = new LiveTurn(turn.conversationId, turn.reportId, turn.assistant.id);
    this.live.set(turn.assistant.id, live);
    const stopListener = this.deps.bus.subscribe(turn.conversationId, (event) => {
      if (event.type === 'stop' && event.messageId === turn.assistant.id) live.abort.abort('stop' satisfies EndReason);
    });
    // After shutdown began, an answer whose reserve committed late (its request was still in flight) is not
    // generated: it is ended at once, as the answers that were running, rather than left to its lease.
    if (this.closed) live.abort.abort('shutdown' satisfies EndReason);
    const startedAt = performance.now();
    void live.done.then((outcome) => {
      this.deps.metrics?.turns.inc({ status: outcome.message.status, saved: String(outcome.saved) });
      this.deps.metrics?.turnDuration.observe((performance.now() - startedAt) / 1000);
    });
    this.run(turn, live)
      .catch((err: unknown) => {
        // run() ends every turn itself; reaching here is a bug. The lease will expire and the sweeper ends it.
        this.deps.log.error({ err, messageId: turn.assistant.id }, 'turn crashed');
        live.end({ saved: false, message: turn.assistant });
      })
      .finally(() => {
        stopListener();
        this.live.delete(turn.assistant.id);
      });
    return live;
  }

  /**
   * Stops every answer of this process (graceful shutdown): each is saved as `interrupted` with its text, and so is
   * any answer started from now on. Resolves when they are saved; call again to wait for those started since.
   */
  async shutdown(): Promise<void> {
    this.closed = true;
    const turns = [...this.live.values()];
    for (const t of turns) t.abort.abort('shutdown' satisfies EndReason);
    await Promise.all(turns.map((t) => t.done));
  }

  private async run(turn: TurnToRun, live: LiveTurn): Promise<void> {
    const { sql, log } = this.deps;
    const ref: AnswerRef = { conversationId: turn.conversationId, seq: turn.assistant.seq };
    const tlog = log.child({ messageId: turn.assistant.id, conversationId: turn.conversationId, seq: ref.seq });

    if (turn.assistant.status === 'streaming' && turn.assistant.leaseOwner === this.deps.instanceId) {
      // reserveTurn started it (nothing was ahead of it): it is streaming under our lease and its creation was
      // published with the turn, so steps 3 and 4 are done. A stop or shutdown that came meanwhile is handled by
      // generate(), which then ends it through finish() as stopped or interrupted.
      live.emit({ type: 'started', message: turn.assistant });
      const result = await this.generate(turn, ref, live, tlog);
      return this.finish(turn, live, result, tlog);
    }

    this.waiting.add(turn.assistant.id);
    const ready = await this.waitForEarlierAnswers(ref, live)
      .catch((err: unknown) => {
        tlog.error({ err }, 'could not wait for earlier answers');
        return false;
      })
      .finally(() => this.waiting.delete(turn.assistant.id));
    if (!ready || live.abort.signal.aborted) return this.endWithoutModel(turn, live, tlog);

    const started = await withRetry(
      () => startAnswer(sql, { ...ref, owner: this.deps.instanceId, leaseMs: this.deps.leaseMs, model: this.deps.model.id }),
      QUICK_RETRY,
    ).catch((err: unknown) => {
      tlog.error({ err }, 'could not start the answer');
      return undefined;
    });
    if (!started) return this.endWithoutModel(turn, live, tlog);
    this.publishMessage(started);
    live.emit({ type: 'started', message: started });

    const result = await this.generate(turn, ref, live, tlog);
    await this.finish(turn, live, result, tlog);
  }

  /** Step 3: answers of a conversation are produced in seq order. Resolves false when this answer ended meanwhile. */
  private async waitForEarlierAnswers(ref: AnswerRef, live: LiveTurn): Promise<boolean> {
    const { sql, bus } = this.deps;
    let wake: (() => void) | undefined;
    const unsubscribe = bus.subscribe(ref.conversationId, (event) => {
      if (event.type === 'message' && event.message.seq < ref.seq && isTerminal(event.message.status)) wake?.();
    });
    const aborted = onAbort(live.abort.signal);
    try {
      for (;;) {
        // Arm the wake-up before the check, so a change committed between the check and the wait is not missed.
        const woken = new Promise<void>((resolve) => {
          wake = resolve;
        });
        const active = await withRetry(() => countActiveBefore(sql, ref), PATIENT_RETRY);
        if (active === 0) return true;
        const stillOurs = await withRetry(
          () => renewQueuedLease(sql, ref, this.deps.instanceId, this.deps.leaseMs),
          PATIENT_RETRY,
        );
        if (!stillOurs || live.abort.signal.aborted) return false;
        await Promise.race([woken, sleep(this.queuePollMs), aborted]);
      }
    } finally {
      unsubscribe();
    }
  }

  /** The answer ended before the model was called (stopped or swept while queued): report it as it is stored. */
  private async endWithoutModel(turn: TurnToRun, live: LiveTurn, tlog: Logger): Promise<void> {
    const ref = { conversationId: turn.conversationId, seq: turn.assistant.seq };
    try {
      if (live.abort.signal.reason === 'stop') {
        const stopped = await withRetry(() => stopQueuedAnswer(this.deps.sql, ref), PATIENT_RETRY);
        if (stopped) this.publishMessage(stopped);
      } else if (live.abort.signal.reason === 'shutdown') {
        const owner = this.deps.instanceId;
        const ended = await withRetry(() => interruptQueuedAnswer(this.deps.sql, { ...ref, owner }), QUICK_RETRY);
        if (ended) this.publishMessage(ended);
      }
      const stored = await withRetry(() => readMessageBySeq(this.deps.sql, ref.conversationId, ref.seq), PATIENT_RETRY);
      // Still queued or streaming under someone else means not ours to report as saved: its lease decides its fate.
      if (stored) return live.end({ saved: isTerminal(stored.status), message: stored });
    } catch (err) {
      tlog.error({ err }, 'could not read the answer');
    }
    live.end({ saved: false, message: turn.assistant });
  }

  /** Steps 4 and 5: stream from the model, sending deltas to followers and the bus, saving every second. */
  private async generate(turn: TurnToRun, ref: AnswerRef, live: LiveTurn, tlog: Logger): Promise<Generated> {
    const { sql, bus } = this.deps;
    let context: ContextRecord | undefined;
    // Saved every tick with the instance's other answers; released before the finish, which it then never overlaps.
    const release = this.checkpointer.add({
      ...ref,
      live,
      reportRevision: turn.reportRevision,
      onLost: () => live.abort.abort('lost-lease' satisfies EndReason),
    });
    try {
      // Everything completed up to this turn's question, newest first, bounded by the budget (in chars ~ 4/token). The
      // question (seq - 1) is read with it for its author's name; it is sent last, as the question.
      const history = await withRetry(
        () => readContextHistory(sql, ref.conversationId, ref.seq, this.deps.contextMaxTokens * 4),
        QUICK_RETRY,
      );
      const asked = history[0]?.seq === ref.seq - 1 && history[0].role === 'user' ? history.shift() : undefined;
      const input = buildModelInput({
        reportTitle: turn.reportTitle,
        reportContent: turn.reportContent,
        history: history.reverse().map((m) => ({ role: m.role, content: m.content, author: authorOf(m) })),
        question: turn.question,
        questionAuthor: asked && authorOf(asked),
        maxTokens: this.deps.contextMaxTokens,
      });
      context = input.context;
      const modelStart = performance.now();
      let first = true;
      let ended: Generated | undefined;
      // Each event is handled as its part is read (answerEvents): no await per delta on an answer's hottest loop.
      await answerEvents({ model: this.deps.model, input, signal: live.abort.signal }, (event) => {
        if (event.type === 'delta') {
          if (first) {
            first = false;
            this.deps.metrics?.timeToFirstToken.observe((performance.now() - modelStart) / 1000);
          }
          const offset = live.text.length;
          live.emit({ type: 'delta', text: event.text });
          bus.publish({ type: 'delta', conversationId: ref.conversationId, messageId: turn.assistant.id, offset, text: event.text });
        } else if (event.type === 'source') {
          live.emit({ type: 'source', source: event.source });
        } else if (event.type === 'finish') {
          this.countUsage(event);
          const { type: _type, rejectedCitations: _rejected, ...usage } = event;
          ended = { status: 'complete', error: null, context, ...usage };
        } else {
          tlog.warn({ err: event.cause }, 'model failed');
          live.emit({ type: 'error', message: event.message });
          ended = { status: 'failed', error: event.message, context };
        }
      });
      if (ended) return ended;
      const reason = live.abort.signal.reason as EndReason | undefined;
      if (reason === 'stop') return { status: 'stopped', error: null, context };
      if (reason === 'shutdown') return { status: 'interrupted', error: 'The server restarted while this answer was being generated.', context };
      if (reason === 'lost-lease') return { status: 'interrupted', error: 'This answer was taken over after a delay.', context };
      return { status: 'failed', error: 'The model ended without finishing its answer.', context };
    } catch (err) {
      tlog.error({ err }, 'answer generation failed');
      const message = 'The answer could not be generated.';
      live.emit({ type: 'error', message });
      return { status: 'failed', error: message, context };
    } finally {
      await release();
    }
  }

  private countUsage(finish: AnswerUsage & { rejectedCitations: number }): void {
    const metrics = this.deps.metrics;
    if (!metrics) return;
    if (finish.rejectedCitations > 0) metrics.citationsRejected.inc(finish.rejectedCitations);
    const counts = { input: finish.inputTokens, output: finish.outputTokens, cache_read: finish.cacheReadTokens, cache_write: finish.cacheWriteTokens };
    for (const [type, n] of Object.entries(counts)) if (n) metrics.modelTokens.inc({ type }, n);
  }

  /**
   * Step 6: commit the final text and status, with the sources emitted so far, what the model was given and the
   * report revision, in one call; retrying transient errors; `saved` only after the commit.
   */
  private async finish(turn: TurnToRun, live: LiveTurn, result: Generated, tlog: Logger): Promise<void> {
    const content = live.text;
    const sources = [...live.sources];
    const ref = { conversationId: turn.conversationId, seq: turn.assistant.seq };
    // An answer that never reached the model names no revision: nothing of the report was given to it.
    const evidence = {
      sources,
      context: result.context ?? null,
      reportRevision: result.context ? turn.reportRevision : null,
    };
    try {
      const finished = await withRetry(
        () =>
          finishAnswer(this.deps.sql, {
            ...ref,
            owner: this.deps.instanceId,
            content,
            ...result,
            sources,
            reportRevision: evidence.reportRevision ?? undefined,
          }),
        {
          ...PATIENT_RETRY,
          onRetry: (err, attempt) => {
            this.deps.metrics?.dbErrors.inc({ class: sqlStateClass(err) });
            tlog.warn({ err, attempt }, 'final commit failed; retrying');
          },
        },
      );
      if (finished.applied) {
        this.publishMessage(finished.message);
        return live.end({ saved: true, message: finished.message, error: result.error ?? undefined });
      }
      tlog.warn({ storedStatus: finished.message.status }, 'the answer was ended elsewhere before its final commit');
      live.end({ saved: false, message: { ...finished.message, content, status: result.status, error: result.error, ...evidence } });
    } catch (err) {
      tlog.error({ err }, 'final commit failed after retries; the lease will expire and the sweeper ends the answer');
      // The person keeps the text on screen, marked not saved.
      live.end({
        saved: false,
        message: { ...turn.assistant, content, status: result.status, error: result.error, ...evidence, updatedAt: new Date() },
      });
    }
  }

  private publishMessage(message: MessageRow): void {
    this.deps.bus.publish({ type: 'message', conversationId: message.conversationId, message });
  }
}

/** Whose words a message is, for the model; undefined for an answer or a message stored before authors were. */
function authorOf(m: ContextMessage): MessageAuthor | undefined {
  return m.authorId ? { id: m.authorId, name: m.authorName } : undefined;
}

function onAbort(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

export type { TurnOutcome };

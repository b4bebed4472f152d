import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { checkpointAnswers, type CheckpointPiece } from '../store/checkpoints.js';
import type { Sql } from '../store/db.js';
import type { AnswerRef } from '../store/turns.js';
import type { LiveTurn } from './live-turn.js';

export interface CheckpointerDeps {
  sql: Sql;
  /** The instance holding the leases of every answer checkpointed here. */
  owner: string;
  leaseMs: number;
  /** How often: at most a third of the lease (checkpointAnswers relies on it). */
  intervalMs: number;
  log: Logger;
  metrics?: Metrics;
}

export interface CheckpointedAnswer extends AnswerRef {
  /** Where the text and the sources so far are read from at each tick. */
  live: LiveTurn;
  reportRevision: number;
  /** Called when a checkpoint finds the answer no longer held by this instance: its generation must stop. */
  onLost: () => void;
}

interface Entry extends CheckpointedAnswer {
  /** What the checkpoints confirmed saved: each saves only what came after it, so its cost is that of the new text. */
  saved: { chars: number; sources: number };
}

interface Batch {
  entries: Set<Entry>;
  done: Promise<void>;
}

/**
 * Saves the text so far of every answer this instance streams and keeps their leases alive (DESIGN.md "A turn",
 * step 5): one statement per tick for all of them, one transaction and one commit, whatever their number.
 *
 * One batch in flight at a time: a tick that comes while one is still running is skipped, so two checkpoints of an
 * answer never race each other from here. A failed batch fails for all its answers; each keeps its unsaved text and
 * the next tick sends it again from its last confirmed offsets. An answer that is finishing leaves through
 * `release`, which waits for a batch in flight holding it; no batch sent after that holds it. The answer's finish
 * thus never overlaps its own checkpoint, which migration 0013 relies on to save pieces without locking the row.
 */
export class Checkpointer {
  private readonly entries = new Set<Entry>();
  private inFlight: Batch | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: CheckpointerDeps) {}

  /** Checkpoints `answer` from the next tick on, until the returned release is called and resolves. */
  add(answer: CheckpointedAnswer): () => Promise<void> {
    const entry: Entry = { ...answer, saved: { chars: 0, sources: 0 } };
    this.entries.add(entry);
    this.timer ??= setInterval(() => this.tick(), this.deps.intervalMs);
    return async () => {
      this.remove(entry);
      const batch = this.inFlight;
      if (batch?.entries.has(entry)) await batch.done;
    };
  }

  private remove(entry: Entry): void {
    this.entries.delete(entry);
    if (this.entries.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private tick(): void {
    if (this.inFlight || this.entries.size === 0) return;
    const entries = new Set(this.entries);
    const sent = [...entries].map((e) => ({ entry: e, upTo: { chars: e.live.text.length, sources: e.live.sources.length } }));
    const pieces: CheckpointPiece[] = sent.map(({ entry: e, upTo }) => ({
      conversationId: e.conversationId,
      seq: e.seq,
      from: e.saved,
      text: e.live.text.slice(e.saved.chars, upTo.chars),
      sources: e.live.sources.slice(e.saved.sources, upTo.sources),
      reportRevision: e.reportRevision,
    }));
    const { metrics, log } = this.deps;
    const done = checkpointAnswers(this.deps.sql, { owner: this.deps.owner, leaseMs: this.deps.leaseMs, answers: pieces })
      .then((held) => {
        metrics?.checkpointStatements.inc({ result: 'ok' });
        sent.forEach(({ entry, upTo }, i) => {
          metrics?.checkpoints.inc({ result: held[i] ? 'saved' : 'lease-lost' });
          if (held[i]) {
            entry.saved = upTo;
          } else {
            // Every later checkpoint would say the same: it is no longer ours to save.
            this.remove(entry);
            entry.onLost();
          }
        });
      })
      .catch((err: unknown) => {
        metrics?.checkpointStatements.inc({ result: 'failed' });
        metrics?.checkpoints.inc({ result: 'failed' }, sent.length);
        log.warn({ err, answers: sent.length }, 'checkpoint failed; will try again');
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    this.inFlight = { entries, done };
  }
}

import { rotateAnswerPieces } from '../store/checkpoints.js';
import { sqlStateClass } from '../store/pg-errors.js';
import { pruneWindows } from '../store/rate-limits.js';
import { sweepExpiredLeases } from '../store/turns.js';
import type { ChatContext } from './context.js';

const PRUNE_EVERY_MS = 3_600_000;
/**
 * How long a generation of checkpoint pieces takes new pieces before the other becomes current (migration 0013). The
 * old one is truncated once the answers streaming at the switch have ended, so each table holds about this long plus
 * the longest answer of pieces; a TRUNCATE (a few WAL records and a brief exclusive lock, up to 100 ms of waiting for
 * checkpoints and readers behind it) once a minute costs far less than deleting each piece and vacuuming it.
 */
const ROTATE_PIECES_AFTER_MS = 60_000;

/**
 * Ends answers whose owner stopped renewing its lease (a killed process): they become `interrupted` with their
 * saved text, and answers queued behind them proceed. Every instance runs one; they may overlap safely.
 * Each sweep also takes a step of the checkpoint pieces' rotation (rotateAnswerPieces), which is what removes them.
 * Once an hour (and at start) it deletes rate-limit windows long over.
 */
export function startSweeper(ctx: ChatContext, intervalMs = Math.max(500, Math.floor(ctx.config.turnLeaseMs / 3))): () => void {
  let running = false;
  let prunedAt = -Infinity;
  const sweep = async () => {
    if (running) return;
    running = true;
    try {
      if (performance.now() - prunedAt >= PRUNE_EVERY_MS) {
        await pruneWindows(ctx.sql);
        prunedAt = performance.now();
      }
      await rotateAnswerPieces(ctx.sql, ROTATE_PIECES_AFTER_MS);
      const swept = await sweepExpiredLeases(ctx.sql);
      ctx.metrics.sweeps.inc({ result: 'ok' });
      ctx.metrics.sweptAnswers.inc(swept.length);
      for (const message of swept) {
        ctx.log.warn({ messageId: message.id, conversationId: message.conversationId }, 'answer interrupted: lease expired');
        ctx.bus.publish({ type: 'message', conversationId: message.conversationId, message });
      }
    } catch (err) {
      ctx.metrics.sweeps.inc({ result: 'failed' });
      ctx.metrics.dbErrors.inc({ class: sqlStateClass(err) });
      ctx.log.warn({ err }, 'sweep failed; will try again');
    } finally {
      running = false;
    }
  };
  void sweep();
  const timer = setInterval(() => void sweep(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

import { sqlStateClass } from '../store/pg-errors.js';
import { sweepExpiredLeases } from '../store/turns.js';
import type { ChatContext } from './context.js';

/**
 * Ends answers whose owner stopped renewing its lease (a killed process): they become `interrupted` with their
 * saved text, and answers queued behind them proceed. Every instance runs one; they may overlap safely.
 */
export function startSweeper(ctx: ChatContext, intervalMs = Math.max(500, Math.floor(ctx.config.turnLeaseMs / 3))): () => void {
  let running = false;
  const sweep = async () => {
    if (running) return;
    running = true;
    try {
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

import { setTimeout as sleep } from 'node:timers/promises';
import type { FaultOp } from './checker.js';
import type { FaultResults } from './faults.js';
import type { World } from './tabs.js';

export interface RollingPlan {
  /** ms since the run began */
  firstAt: number;
  /** No restart starts after this (ms since the run began). */
  lastStartAt: number;
  /** Pause after an instance is ready again, before the next one goes: what a deploy tool's health gate waits. */
  settleMs: number;
}

/**
 * `--rolling`: a zero-downtime upgrade, over and over. The instances are restarted one by one (SIGTERM, which must
 * end each with exit code 0; then a new process on the same port, ready on `/readyz`), while the tabs keep sending,
 * reading and following through the proxy; only then the next. Recorded as `graceful-restart` faults.
 */
export async function runRollingRestarts(world: World, plan: RollingPlan, results: FaultResults): Promise<void> {
  const { rec } = world;
  while (rec.now() < plan.firstAt && !world.stopping) await sleep(250);
  for (let round = 1; rec.now() < plan.lastStartAt && !world.stopping; round++) {
    for (const inst of world.instances) {
      if (rec.now() >= plan.lastStartAt || world.stopping) return;
      const op: FaultOp = { type: 'fault', op: rec.opId(), kind: 'graceful-restart', target: inst.name, start: rec.now(), end: 0 };
      try {
        const exit = await inst.terminate();
        if (exit !== 0) results.badExits.push(`${inst.name}: SIGTERM in rolling restart ${round} ended it with ${String(exit)}`);
        await inst.start();
        op.detail = `rolling restart ${round}: SIGTERM exit ${String(exit)}, ready again after ${Math.round(rec.now() - op.start)} ms`;
      } catch (err) {
        results.errors.push(`rolling restart of ${inst.name}: ${err instanceof Error ? err.message : String(err)}`);
        op.detail = `failed: ${err instanceof Error ? err.message : String(err)}`;
      }
      op.end = rec.now();
      rec.add(op);
      await sleep(plan.settleMs);
    }
  }
}

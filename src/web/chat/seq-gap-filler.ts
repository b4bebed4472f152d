/**
 * Seqs of a conversation have no holes (a turn takes n and n+1). A hole among the messages held means an event
 * was missed (or has not arrived yet): after a short pause, the missing range is read again. Each hole is read
 * at most once per conversation version, so a hole that cannot be filled (a clear) causes no loop.
 */
export interface GapHost {
  missingRange(): { after: number; count: number } | undefined;
  version(): number;
  /** Reads `count` messages after seq `after` and merges them. */
  read(after: number, count: number): Promise<void>;
}

const SETTLE_MS = 400;

export class SeqGapFiller {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastKey = '';

  constructor(private readonly host: GapHost) {}

  /** Call after any stored message was merged. */
  check(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const gap = this.host.missingRange();
      if (!gap) return;
      const key = `${gap.after}:${this.host.version()}`;
      if (key === this.lastKey) return;
      this.lastKey = key;
      this.host
        .read(gap.after, Math.min(200, gap.count))
        .then(() => this.check())
        .catch(() => {
          // Unreachable now; the next merged message checks again.
        });
    }, SETTLE_MS);
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}

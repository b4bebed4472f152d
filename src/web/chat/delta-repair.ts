/**
 * Text of a streaming answer that this tab missed (it loaded the answer from a checkpoint, or its events stream
 * reconnected) shows as a delta whose offset is past the text held. Such deltas wait here while the message is
 * read again; the stored text catches up within a second or so (the server checkpoints), and the waiting deltas
 * then apply on top of it.
 */
export interface RepairHost {
  /** Applies a delta; 'gap' when it still cannot be applied. */
  apply(id: string, offset: number, text: string): 'applied' | 'unchanged' | 'gap' | 'unknown';
  /** Reads the message again from the server and merges it (longer text wins). */
  refetch(id: string): Promise<void>;
  /** True when the message is over (terminal): nothing left to repair. */
  isOver(id: string): boolean;
}

interface Repair {
  waiting: Array<{ offset: number; text: string }>;
  attempts: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  fetching: boolean;
}

const RETRY_MS = 600;
const MAX_ATTEMPTS = 25;

export class DeltaRepair {
  private readonly repairs = new Map<string, Repair>();

  constructor(private readonly host: RepairHost) {}

  /** Every delta of the events stream comes through here. */
  delta(id: string, offset: number, text: string): void {
    const repair = this.repairs.get(id);
    if (repair) {
      repair.waiting.push({ offset, text });
      this.drain(id);
      return;
    }
    if (this.host.apply(id, offset, text) !== 'gap') return;
    this.repairs.set(id, { waiting: [{ offset, text }], attempts: 0, timer: undefined, fetching: false });
    this.fetch(id);
  }

  /** The message changed by other means (a page, a stored copy, this tab's stream): waiting deltas may now fit. */
  changed(id: string): void {
    if (this.repairs.has(id)) this.drain(id);
  }

  dispose(): void {
    for (const repair of this.repairs.values()) clearTimeout(repair.timer);
    this.repairs.clear();
  }

  private drain(id: string): void {
    const repair = this.repairs.get(id);
    if (!repair) return;
    if (this.host.isOver(id)) return this.end(id);
    repair.waiting.sort((a, b) => a.offset - b.offset);
    let progressed = true;
    while (progressed && repair.waiting.length > 0) {
      progressed = false;
      repair.waiting = repair.waiting.filter((d) => {
        const result = this.host.apply(id, d.offset, d.text);
        if (result === 'gap') return true;
        if (result === 'applied') progressed = true;
        return false;
      });
    }
    if (repair.waiting.length === 0) this.end(id);
  }

  private fetch(id: string): void {
    const repair = this.repairs.get(id);
    if (!repair || repair.fetching) return;
    repair.fetching = true;
    repair.attempts++;
    this.host
      .refetch(id)
      .catch(() => {
        // Unreachable for now: try again below, or let the final message event settle it.
      })
      .finally(() => {
        repair.fetching = false;
        if (this.repairs.get(id) !== repair) return;
        this.drain(id);
        if (this.repairs.get(id) !== repair) return;
        if (repair.attempts >= MAX_ATTEMPTS) return this.end(id);
        repair.timer = setTimeout(() => this.fetch(id), RETRY_MS);
      });
  }

  private end(id: string): void {
    const repair = this.repairs.get(id);
    if (repair) clearTimeout(repair.timer);
    this.repairs.delete(id);
  }
}

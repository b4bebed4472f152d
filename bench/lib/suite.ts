import type { BenchServer } from './database.js';
import type { BenchOptions } from './options.js';

export interface SuiteContext {
  server: BenchServer;
  options: BenchOptions;
  log: (line: string) => void;
}

/** One of the performance targets (BENCHMARKS.md), as measured in this run. */
export interface TargetResult {
  id: string;
  target: string;
  measured: string;
  met: boolean;
  /** What limits it, when not met (or what the number depends on). */
  note?: string;
}

export interface SuiteReport {
  suite: string;
  /** Markdown tables, each with a title, printed in order. */
  tables: { title: string; body: string }[];
  targets: TargetResult[];
  /** Everything measured, per run: the JSON result. */
  data: unknown;
}

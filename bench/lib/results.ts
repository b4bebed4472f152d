import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  postgres: string;
  postgresSettings: Record<string, string>;
  embeddedPostgres: boolean;
}

export function machineInfo(postgres: string, postgresSettings: Record<string, string>, embeddedPostgres: boolean): MachineInfo {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    postgres,
    postgresSettings,
    embeddedPostgres,
  };
}

/** The 1-minute load average: the machines here are shared, so each table says how busy it was. */
export const load1 = (): number => Math.round((loadavg()[0] ?? 0) * 100) / 100;

/** Writes `bench/results/<suite>-<stamp>.json` and returns its path. */
export function writeResult(suite: string, stamp: string, data: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = `${RESULTS_DIR}${suite}-${stamp}.json`;
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
  return path;
}

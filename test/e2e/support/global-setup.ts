import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Runs once, in the runner, before any test: builds the web UI that the test servers serve. Also makes SIGTERM (a CI
 * timeout) stop the run as Ctrl+C does: the runner handles SIGINT alone, by stopping the worker, whose fixtures then
 * close servers, databases and the browser and whose exit removes the temp folders; on SIGTERM it would die at once,
 * and the interrupted test and the summary would not be reported.
 */
export default async function globalSetup(): Promise<() => void> {
  const onTerm = () => process.kill(process.pid, 'SIGINT');
  process.once('SIGTERM', onTerm);
  console.log('building the web UI (vite build)…');
  await build({ configFile: `${ROOT}vite.config.ts`, logLevel: 'warn', mode: 'production' });
  return () => process.off('SIGTERM', onTerm);
}

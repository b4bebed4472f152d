import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

/**
 * V8's sampling CPU profiler (the one `node --cpu-prof` runs), started and stopped on request so that a profile
 * covers only the measured load, not start-up and module loading. Writes a `.cpuprofile` file.
 */
export function createProfiler() {
  let session: Session | undefined;
  return {
    async start(): Promise<void> {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    },
    async stop(file: string): Promise<void> {
      if (!session) return;
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
      session = undefined;
    },
  };
}

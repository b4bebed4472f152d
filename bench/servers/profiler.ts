import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

/**
 * V8's sampling CPU profiler (the one `node --cpu-prof` runs), started and stopped on request so that a profile
 * covers only the measured load, not start-up and module loading. Writes a `.cpuprofile` file.
 */
export function createProfiler() {
  let session: Session | undefined;
  let heapSession: Session | undefined;
  return {
    async start(): Promise<void> {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    },
    /** Samples allocations (one per 32 KiB on average) from now on; `stopHeap` keeps those still alive. */
    async startHeap(): Promise<void> {
      heapSession = new Session();
      heapSession.connect();
      await heapSession.post('HeapProfiler.enable');
      await heapSession.post('HeapProfiler.startSampling', { samplingInterval: 32 * 1024 });
    },
    async stopHeap(file: string): Promise<void> {
      if (!heapSession) return;
      const { profile } = await heapSession.post('HeapProfiler.stopSampling');
      writeFileSync(file, JSON.stringify(profile));
      heapSession.disconnect();
      heapSession = undefined;
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

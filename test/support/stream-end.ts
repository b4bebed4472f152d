import type { readSse } from './test-app.js';

type Stream = ReturnType<typeof readSse>;

/** True when the server ends the stream (its body is done, cleanly) within `ms`; false when it is still open then. */
export async function endsWithin(stream: Stream, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (let i = 0; i < 1_000; i++) {
    const left = deadline - Date.now();
    if (left <= 0) return false;
    let event;
    try {
      event = await stream.next(left);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('timed out')) return false;
      throw err;
    }
    if (event === undefined) return true;
  }
  return false;
}

import { afterAll, beforeAll } from 'vitest';
import type { FakeProviderServer } from '../fakes/fake-behavior.js';

/** A fake model provider for the enclosing describe (or file): started before its tests, closed after. */
export function useFakeProvider(start: () => Promise<FakeProviderServer>): () => FakeProviderServer {
  let server: FakeProviderServer | undefined;
  beforeAll(async () => {
    server = await start();
  });
  afterAll(async () => {
    await server?.close();
  });
  return () => {
    if (!server) throw new Error('the fake provider is used outside its describe');
    return server;
  };
}

import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { credentialKey } from './access-watch.js';
import { createLocalBus } from './bus.js';
import type { Authenticated } from './context.js';
import { createCredentialCache } from './credential-cache.js';

const caller = { id: 'u1', email: 'u1@example.test', name: null };
const token = (id: string): Authenticated => ({ caller, credential: { kind: 'token', id } });

/** A load that counts its calls and answers `who`. */
function counted(who: Authenticated | undefined) {
  const load = async () => {
    load.calls++;
    return who;
  };
  load.calls = 0;
  return load;
}

describe('credential cache', () => {
  it('reads a credential once while it is remembered, and again after ttlMs', async () => {
    const cache = createCredentialCache(createLocalBus(), { ttlMs: 100 });
    const load = counted(token('t1'));
    for (let i = 0; i < 3; i++) expect(await cache.lookup('token', 'secret-1', load)).toEqual(token('t1'));
    expect(load.calls).toBe(1);
    await sleep(150);
    await cache.lookup('token', 'secret-1', load);
    expect(load.calls).toBe(2);
  });

  it('keeps a token and a session with the same secret apart, and never remembers one not found', async () => {
    const cache = createCredentialCache(createLocalBus());
    const missing = counted(undefined);
    expect(await cache.lookup('token', 'same', missing)).toBeUndefined();
    expect(await cache.lookup('token', 'same', missing)).toBeUndefined();
    expect(missing.calls).toBe(2);
    const session: Authenticated = { caller, credential: { kind: 'session', id: 's1', expiresAt: new Date(Date.now() + 60_000) } };
    expect(await cache.lookup('session', 'same', counted(session))).toEqual(session);
  });

  it('forgets a credential the moment the bus says it ended', async () => {
    const bus = createLocalBus();
    const cache = createCredentialCache(bus);
    const load = counted(token('t1'));
    await cache.lookup('token', 'secret-1', load);
    bus.publishCredentialEnded(credentialKey({ kind: 'token', id: 't2' }));
    await cache.lookup('token', 'secret-1', load);
    expect(load.calls).toBe(1);
    bus.publishCredentialEnded(credentialKey({ kind: 'token', id: 't1' }));
    await cache.lookup('token', 'secret-1', load);
    expect(load.calls).toBe(2);
  });

  it('does not keep what a lookup read while a credential ended: it may have read it before the end', async () => {
    const bus = createLocalBus();
    const cache = createCredentialCache(bus);
    let release!: () => void;
    const slow = async () => {
      await new Promise<void>((resolve) => (release = resolve));
      return token('t1');
    };
    const pending = cache.lookup('token', 'secret-1', slow);
    await sleep(0);
    bus.publishCredentialEnded(credentialKey({ kind: 'token', id: 't1' }));
    release();
    expect(await pending).toEqual(token('t1'));
    const load = counted(undefined);
    expect(await cache.lookup('token', 'secret-1', load)).toBeUndefined();
    expect(load.calls).toBe(1);
  });

  it('remembers a session no longer than it lasts', async () => {
    const cache = createCredentialCache(createLocalBus(), { ttlMs: 60_000 });
    const load = counted({ caller, credential: { kind: 'session', id: 's1', expiresAt: new Date(Date.now() + 80) } });
    await cache.lookup('session', 'cookie', load);
    await cache.lookup('session', 'cookie', load);
    expect(load.calls).toBe(1);
    await sleep(120);
    await cache.lookup('session', 'cookie', load);
    expect(load.calls).toBe(2);
  });

  it('holds at most maxEntries, dropping the oldest', async () => {
    const cache = createCredentialCache(createLocalBus(), { maxEntries: 2 });
    const loads = ['a', 'b', 'c'].map((id) => counted(token(id)));
    for (const [i, load] of loads.entries()) await cache.lookup('token', `s-${i}`, load);
    await cache.lookup('token', 's-0', loads[0]!);
    await cache.lookup('token', 's-2', loads[2]!);
    expect(loads.map((l) => l.calls)).toEqual([2, 1, 1]);
  });
});

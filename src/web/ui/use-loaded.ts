import { useCallback, useEffect, useState, type Dispatch, type SetStateAction } from 'react';
import { describeError, isAbort } from '../api/errors.js';

export type Loaded<T> = { status: 'loading' } | { status: 'failed'; message: string } | { status: 'ready'; value: T };

/**
 * What a page section shows from one API read: loaded when it mounts (and when `load` or `failed` change: pass
 * stable functions), again on `reload()`; an abort on unmount is not a failure. `failed` turns an error into the
 * words shown, or undefined when the caller has dealt with it otherwise (the admin page's ended session). `update`
 * changes the value in place after a write.
 */
export function useLoaded<T>(
  load: (signal?: AbortSignal) => Promise<T>,
  failed: (err: unknown) => string | undefined = describeError,
): { loaded: Loaded<T>; reload: () => void; update: Dispatch<SetStateAction<T>> } {
  const [loaded, setLoaded] = useState<Loaded<T>>({ status: 'loading' });

  const run = useCallback(
    (signal?: AbortSignal) => {
      load(signal)
        .then((value) => setLoaded({ status: 'ready', value }))
        .catch((err: unknown) => {
          if (isAbort(err)) return;
          const message = failed(err);
          if (message !== undefined) setLoaded({ status: 'failed', message });
        });
    },
    [load, failed],
  );

  useEffect(() => {
    const controller = new AbortController();
    run(controller.signal);
    return () => controller.abort();
  }, [run]);

  const update = useCallback<Dispatch<SetStateAction<T>>>(
    (change) =>
      setLoaded((l) => (l.status === 'ready' ? { status: 'ready', value: typeof change === 'function' ? (change as (v: T) => T)(l.value) : change } : l)),
    [],
  );

  return { loaded, reload: useCallback(() => run(), [run]), update };
}

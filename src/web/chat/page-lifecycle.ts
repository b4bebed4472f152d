/**
 * Tells when this page stops running tasks and when it runs again: frozen by the browser (a background tab on a
 * phone, Chrome's Energy Saver) or kept in the back-forward cache. A frozen tab holds on to what it holds, a Web
 * Lock included, while doing nothing: shared-events.ts lets go before that happens. Returns the unsubscribe.
 */
export function watchFreezing(onChange: (frozen: boolean) => void): () => void {
  const freeze = () => onChange(true);
  const resume = () => onChange(false);
  const hide = (e: PageTransitionEvent) => e.persisted && onChange(true);
  const show = (e: PageTransitionEvent) => e.persisted && onChange(false);
  // The Page Lifecycle events (Chromium); pagehide and pageshow with `persisted` (the cache, in every browser).
  document.addEventListener('freeze', freeze);
  document.addEventListener('resume', resume);
  window.addEventListener('pagehide', hide);
  window.addEventListener('pageshow', show);
  return () => {
    document.removeEventListener('freeze', freeze);
    document.removeEventListener('resume', resume);
    window.removeEventListener('pagehide', hide);
    window.removeEventListener('pageshow', show);
  };
}

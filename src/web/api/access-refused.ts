/**
 * A person's access to a report can change while its page is open: the owner removes them (their events stream
 * ends, and opening it again is 404) or makes an editor a viewer (their next send is 403). Whatever meets such a
 * refusal says so here, and the report page reads the report again: the role it now has, or that it is gone.
 */
type Listener = () => void;
const listeners = new Map<string, Set<Listener>>();

export const isAccessRefusal = (status: number): boolean => status === 403 || status === 404;

export function accessRefused(reportId: string): void {
  for (const fn of [...(listeners.get(reportId) ?? [])]) fn();
}

export function onAccessRefused(reportId: string, fn: Listener): () => void {
  let set = listeners.get(reportId);
  if (!set) listeners.set(reportId, (set = new Set()));
  set.add(fn);
  return () => {
    set.delete(fn);
    if (set.size === 0) listeners.delete(reportId);
  };
}

import { readFileSync } from 'node:fs';

/** The parts of a V8 `.cpuprofile` (written by `node --cpu-prof`) that a summary needs. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  file: string;
  /** Sampled time, idle excluded, in ms. */
  busyMs: number;
  idleMs: number;
  /** Self time by where the code lives: src/<folder>, a package, node internals, GC. */
  byArea: { area: string; ms: number; share: number }[];
  /**
   * Self time by the nearest caller that is not Node itself: a src/ file or a package. Node's streams, sockets and
   * timers are charged to whoever called them (a socket write made by postgres.js counts for postgres).
   */
  byOwner: { owner: string; ms: number; share: number }[];
  /** The functions with the most self time. */
  topFunctions: { fn: string; where: string; ms: number; share: number }[];
  /** Inclusive time of frames from src/ (self + callees), by function: what our own code costs with what it calls. */
  topSrcInclusive: { fn: string; where: string; ms: number; share: number }[];
}

export function summarizeProfile(file: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    // timeDeltas[i] is the time before sample i; it is the best estimate of how long sample i's frame ran.
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  let idleMs = 0;
  let busyMs = 0;
  const areas = new Map<string, number>();
  const owners = new Map<string, number>();
  const fns = new Map<string, { fn: string; where: string; ms: number }>();
  const inclusive = new Map<string, { fn: string; where: string; ms: number }>();
  // Samples taken while the profiler itself was starting (bench/servers/profiler.ts) are not the app's work.
  const profilerOwn = (id: number) => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      if (byId.get(cur)!.callFrame.url.endsWith('/bench/servers/profiler.ts')) return true;
    }
    return false;
  };
  for (const [id, ms] of self) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    if (profilerOwn(id)) continue;
    if (functionName === '(idle)') {
      idleMs += ms;
      continue;
    }
    busyMs += ms;
    const area = areaOf(functionName, url);
    areas.set(area, (areas.get(area) ?? 0) + ms);
    const owner = ownerOf(id, byId, parent, functionName);
    owners.set(owner, (owners.get(owner) ?? 0) + ms);
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
    const key = `${functionName}@${where}`;
    const entry = fns.get(key) ?? { fn: functionName || '(anonymous)', where, ms: 0 };
    entry.ms += ms;
    fns.set(key, entry);
    // Inclusive time for src/ frames: walk up once per distinct src frame on this stack.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      if (!/\/src\//.test(f.url) || /node_modules/.test(f.url)) continue;
      const k = `${f.functionName}@${shortUrl(f.url)}:${f.lineNumber + 1}`;
      if (seen.has(k)) continue;
      seen.add(k);
      const e = inclusive.get(k) ?? { fn: f.functionName || '(anonymous)', where: `${shortUrl(f.url)}:${f.lineNumber + 1}`, ms: 0 };
      e.ms += ms;
      inclusive.set(k, e);
    }
  }
  const share = (ms: number) => (busyMs > 0 ? ms / busyMs : 0);
  return {
    file,
    busyMs,
    idleMs,
    byArea: [...areas].map(([area, ms]) => ({ area, ms, share: share(ms) })).sort((a, b) => b.ms - a.ms),
    byOwner: [...owners].map(([owner, ms]) => ({ owner, ms, share: share(ms) })).sort((a, b) => b.ms - a.ms),
    topFunctions: [...fns.values()].sort((a, b) => b.ms - a.ms).slice(0, top).map((f) => ({ ...f, share: share(f.ms) })),
    topSrcInclusive: [...inclusive.values()].sort((a, b) => b.ms - a.ms).slice(0, top).map((f) => ({ ...f, share: share(f.ms) })),
  };
}

type Frame = { callFrame: { functionName: string; url: string } };

function ownerOf(id: number, byId: Map<number, Frame>, parent: Map<number, number>, selfName: string): string {
  if (selfName === '(garbage collector)') return 'GC';
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const url = byId.get(cur)!.callFrame.url;
    const pkg = /node_modules\/(@[^/]+\/[^/]+|[^/]+)/.exec(url);
    if (pkg) return `pkg ${pkg[1]}`;
    const src = /\/(src\/.+)$/.exec(url);
    if (src) return src[1]!;
    if (url.includes('/bench/')) return 'bench (the baseline server, fakes)';
  }
  return 'Node and V8 only (event loop, microtasks, native)';
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const src = url.lastIndexOf('/src/');
  if (src >= 0) return url.slice(src + 1);
  const bench = url.lastIndexOf('/bench/');
  if (bench >= 0) return url.slice(bench + 1);
  return url.replace(/^file:\/\//, '');
}

function areaOf(functionName: string, url: string): string {
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(program)') return '(program: native, not attributed)';
  if (!url) return 'native / builtins';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return `pkg ${rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  const src = url.lastIndexOf('/src/');
  if (src >= 0) return `src/${url.slice(src + 5).split('/')[0]}`;
  if (url.startsWith('node:')) return 'node internals';
  if (url.includes('/bench/')) return 'bench';
  return 'other';
}

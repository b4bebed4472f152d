import { readFileSync } from 'node:fs';

/** The parts of a V8 sampling heap profile (`HeapProfiler.stopSampling`) that a summary needs. */
interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

export interface HeapSummary {
  file: string;
  /** Sampled bytes still alive when the profile was taken. */
  totalBytes: number;
  /** By the nearest frame that is ours or a package's (Node's own frames are charged to their caller). */
  byOwner: { owner: string; bytes: number }[];
  /** By the allocating function itself. */
  topSites: { site: string; bytes: number }[];
}

/** Live sampled allocations of a heap profile, by who allocated them. */
export function summarizeHeapProfile(file: string, top = 15): HeapSummary {
  const { head } = JSON.parse(readFileSync(file, 'utf8')) as { head: HeapNode };
  const owners = new Map<string, number>();
  const sites = new Map<string, number>();
  let totalBytes = 0;
  const walk = (node: HeapNode, owner: string) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const mine = ownerOf(url);
    const here = mine ?? owner;
    if (node.selfSize > 0) {
      totalBytes += node.selfSize;
      owners.set(here, (owners.get(here) ?? 0) + node.selfSize);
      const site = `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`;
      sites.set(site, (sites.get(site) ?? 0) + node.selfSize);
    }
    for (const child of node.children) walk(child, here);
  };
  walk(head, 'Node and V8 only');
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top);
  return {
    file,
    totalBytes,
    byOwner: sorted(owners).map(([owner, bytes]) => ({ owner, bytes })),
    topSites: sorted(sites).map(([site, bytes]) => ({ site, bytes })),
  };
}

function ownerOf(url: string): string | undefined {
  const pkg = /node_modules\/(@[^/]+\/[^/]+|[^/]+)/.exec(url);
  if (pkg) return `pkg ${pkg[1]}`;
  const src = /\/(src\/.+)$/.exec(url);
  if (src) return src[1];
  if (url.includes('/bench/')) return 'bench';
  return undefined;
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const src = url.lastIndexOf('/src/');
  if (src >= 0) return url.slice(src + 1);
  return url.replace(/^file:\/\//, '');
}

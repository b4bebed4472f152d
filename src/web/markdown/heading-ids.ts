/** The few mdast fields this plugin reads (see the mdast spec); typed here to depend on no parser package. */
interface MdNode {
  type: string;
  value?: string;
  children?: MdNode[];
  data?: { hProperties?: Record<string, unknown> };
}

/** A URL fragment for a heading: lower case, letters and digits joined by hyphens. */
export function slugify(text: string): string {
  const slug = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '');
  return slug || 'section';
}

function textOf(node: MdNode): string {
  if (typeof node.value === 'string') return node.value;
  return (node.children ?? []).map(textOf).join('');
}

/**
 * A remark plugin that gives every heading an id (`section-<slug>`, numbered when repeated), so a table of
 * contents can link to it. The prefix keeps report ids apart from the app's own element ids.
 */
export function remarkHeadingIds() {
  return (tree: MdNode): void => {
    const seen = new Map<string, number>();
    const visit = (node: MdNode) => {
      if (node.type === 'heading') {
        const base = `section-${slugify(textOf(node))}`;
        const count = seen.get(base) ?? 0;
        seen.set(base, count + 1);
        node.data = { ...node.data, hProperties: { ...node.data?.hProperties, id: count === 0 ? base : `${base}-${count + 1}` } };
      }
      for (const child of node.children ?? []) visit(child);
    };
    visit(tree);
  };
}

export interface Heading {
  id: string;
  text: string;
  level: number;
}

/** The headings of a rendered report that a table of contents lists: h2 and h3, or h1 when there are no others. */
export function readHeadings(article: HTMLElement): Heading[] {
  const all = [...article.querySelectorAll<HTMLHeadingElement>('h1[id], h2[id], h3[id]')].map((h) => ({
    id: h.id,
    text: (h.textContent ?? '').trim(),
    level: Number(h.tagName.slice(1)),
  }));
  const sections = all.filter((h) => h.level > 1);
  return sections.length > 0 ? sections : all;
}

/**
 * A long Markdown report for tests and benchmarks, the same for the same arguments: chapters and sections of
 * paragraphs in a made-up but varied vocabulary (so that a search is as selective as on real prose), ending
 * with a section that holds one fact found nowhere else.
 */
export const LAST_SECTION_HEADING = 'Vault maintenance';
export const LAST_SECTION_FACT = 'The vault door code is rotated every 41 days by the night shift.';

const SYLLABLES = ['ka', 'lo', 'mi', 'ren', 'sto', 'vu', 'tal', 'bri', 'osk', 'ne', 'dur', 'fi', 'gal', 'hem', 'pra', 'zu'];

export function longReport(targetChars: number, seed = 1): string {
  let state = seed >>> 0 || 1;
  const next = () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
  const vocabulary = Array.from({ length: 3_000 }, () => {
    const n = 2 + Math.floor(next() * 3);
    return Array.from({ length: n }, () => SYLLABLES[Math.floor(next() * SYLLABLES.length)]).join('');
  });
  const word = () => vocabulary[Math.floor(next() ** 2 * vocabulary.length)]!; // a few words are common, most rare
  const words = (n: number) => Array.from({ length: n }, word).join(' ');
  const sentence = () => {
    const text = words(8 + Math.floor(next() * 10));
    return `${text[0]!.toUpperCase()}${text.slice(1)}, measured at ${Math.floor(next() * 1000)} units.`;
  };
  const parts = ['# Operations review', '', 'An overview of the year, chapter by chapter.', ''];
  let size = parts.join('\n').length;
  const tail = `## ${LAST_SECTION_HEADING}\n\n${LAST_SECTION_FACT}\n`;
  for (let chapter = 1; size < targetChars - tail.length; chapter++) {
    const lines = [`## Chapter ${chapter}: ${words(2)}`, ''];
    for (let section = 1; section <= 4; section++) {
      lines.push(`### ${words(3)}`, '');
      for (let p = 0; p < 3; p++) lines.push(Array.from({ length: 3 + Math.floor(next() * 3) }, sentence).join(' '), '');
    }
    const text = lines.join('\n');
    parts.push(text);
    size += text.length + 1;
  }
  return `${parts.join('\n')}\n${tail}`;
}

/**
 * Keeps untrusted text (a report, its title, members' messages) from closing the blocks the prompt puts it in.
 *
 * A closing tag is what a model might read as one, not only its ASCII spelling: `</report>`, `< / REPORT`, `＜/report＞`,
 * `&lt;/report&gt;`, `</rep\u200Bort>`, `</rероrt>` with Cyrillic letters. Detection therefore looks at each unit of the
 * text (a code point, or an HTML character reference such as `&lt;` or `&#x2f;`) through `fold`: compatibility
 * decomposition (NFKD, a superset of what NFKC changes here), without combining marks and invisible characters,
 * lowercased, with common confusables folded to the Latin character they imitate.
 *
 * A closing tag is a `<` unit, a gap of units that fold to whitespace, backslashes or nothing, a `/` unit, and then
 * (whitespace and) one of our tag names. Neutralising inserts one ASCII backslash right before the `/` unit of every
 * closing tag, so `</report` becomes `<\/report`; restoring removes it. Inserting or removing a backslash in the gap
 * neither makes nor unmakes a closing tag anywhere, so the closing tags of the neutralised text are exactly those of
 * the original, each with the backslash added: restore(neutralise(x)) === x for every string, including one that
 * already holds `<\/report` (it becomes `<\\/report` and comes back as it was).
 */

/** Tag names whose closing tags are neutralised; a name matches any tag it starts (`report` covers `report_title`). */
const TAG_NAMES = ['report', 'message'] as const;
const LONGEST_NAME = Math.max(...TAG_NAMES.map((n) => n.length));

// Characters that look like the ones a closing tag is made of, beyond what NFKD already maps. Keys are lowercase:
// fold lowercases first.
const CONFUSABLES: Record<string, string> = {
  ...mapAll('<', '\u2039\u02c2\u1438\u16b2\u276e\u3008\u27e8\u227a'),
  ...mapAll('/', '\u2044\u2215\u29f8\u2571\u27cb\u3033\u30ce\u4e3f\u2cc6'),
  ...mapAll('\\', '\u2216\u29f5\u29f9\u27cd\u2572'),
  ...mapAll('a', '\u0430\u03b1\u0251'),
  ...mapAll('e', '\u0435\u03b5\u04bd\u0454\u212e'),
  ...mapAll('g', '\u0261\u0581\u050d'),
  ...mapAll('m', '\u043c\u03bc\u03fb'),
  ...mapAll('o', '\u043e\u03bf\u0585\u1d0f\u2c9f'),
  ...mapAll('p', '\u0440\u03c1\u2374\u2ca3'),
  ...mapAll('r', '\u0433\u1d26\u2c85\uab47\u0280'),
  ...mapAll('s', '\u0455\ua731'),
  ...mapAll('t', '\u0442\u03c4\u1d1b'),
};

function mapAll(to: string, from: string): Record<string, string> {
  return Object.fromEntries([...from].map((c) => [c, to]));
}

const NAMED_REFERENCES: Record<string, string> = { lt: '<', gt: '>', sol: '/', bsol: '\\', amp: '&' };

// One unit: an HTML character reference (numeric, or one of a few named ones; `&lt` and `&gt` need no semicolon in
// HTML either), or else one code point (a lone surrogate counts as one).
const UNIT = /&#[xX][0-9a-fA-F]{1,8};?|&#[0-9]{1,10};?|&(?:lt|LT|gt|GT);?|&(?:sol|bsol|amp|AMP);|[\uD800-\uDBFF][\uDC00-\uDFFF]|[^]/gy;
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Cc}\p{M}]/gu;

function decodeReference(unit: string): string {
  if (unit.length === 1 || !unit.startsWith('&')) return unit;
  const body = unit.slice(1).replace(/;$/, '');
  if (body.startsWith('#')) {
    const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : '';
  }
  return NAMED_REFERENCES[body.toLowerCase()] ?? unit;
}

/** What a unit looks like, for detection only. */
function fold(unit: string): string {
  // \s is not in INVISIBLE even where \p{Cc} holds (tab, newline): it is the gap's whitespace.
  const chars = decodeReference(unit)
    .normalize('NFKD')
    .replace(INVISIBLE, (c) => (/\s/.test(c) ? c : ''))
    .toLowerCase();
  let out = '';
  for (const c of chars) out += CONFUSABLES[c] ?? c;
  return out;
}

function unitsOf(text: string): string[] {
  UNIT.lastIndex = 0;
  const units: string[] = [];
  for (let m = UNIT.exec(text); m; m = UNIT.exec(text)) units.push(m[0]);
  return units;
}

const isGap = (folded: string) => /^[\s\\]*$/.test(folded);

/** Whether the `/` unit at `i` closes one of our tags: a `<` before it across a gap, and a tag name after it. */
function closesTag(units: string[], folded: string[], i: number): boolean {
  if (folded[i] !== '/') return false;
  let j = i - 1;
  while (j >= 0 && folded[j] !== '<' && isGap(folded[j]!)) j--;
  if (j < 0 || folded[j] !== '<') return false;
  let after = '';
  for (let k = i + 1; k < units.length && after.trimStart().length < LONGEST_NAME; k++) after += folded[k];
  const name = after.trimStart();
  return TAG_NAMES.some((n) => name.startsWith(n));
}

export function neutraliseDelimiters(text: string): string {
  const units = unitsOf(text);
  const folded = units.map(fold);
  let out = '';
  units.forEach((unit, i) => {
    if (closesTag(units, folded, i)) out += '\\';
    out += unit;
  });
  return out;
}

/** Exactly undoes neutraliseDelimiters. */
export function restoreDelimiters(text: string): string {
  const units = unitsOf(text);
  const folded = units.map(fold);
  const drop = new Set<number>();
  units.forEach((_, i) => {
    if (units[i - 1] === '\\' && closesTag(units, folded, i)) drop.add(i - 1);
  });
  return drop.size === 0 ? text : units.filter((_, i) => !drop.has(i)).join('');
}

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

// An HTML character reference (numeric, or one of a few named ones; `&lt` and `&gt` need no semicolon in HTML
// either) is one unit; any other unit is one code point (a lone surrogate counts as one).
const REFERENCE = /&#[xX][0-9a-fA-F]{1,8};?|&#[0-9]{1,10};?|&(?:lt|LT|gt|GT);?|&(?:sol|bsol|amp|AMP);/y;
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Cc}\p{M}]/gu;

function decodeReference(unit: string): string {
  if (!unit.startsWith('&') || unit.length === 1) return unit;
  const body = unit.slice(1).replace(/;$/, '');
  if (body.startsWith('#')) {
    const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : '';
  }
  return NAMED_REFERENCES[body.toLowerCase()] ?? unit;
}

const foldCache = new Map<string, string>();
const MAX_CACHED = 10_000;

/** What a unit looks like, for detection only. */
function fold(unit: string): string {
  const code = unit.charCodeAt(0);
  // Printable ASCII other than `&` looks like itself: the fast path for most of any text.
  if (unit.length === 1 && code >= 0x20 && code < 0x7f && code !== 0x26) return unit.toLowerCase();
  const cached = foldCache.get(unit);
  if (cached !== undefined) return cached;
  // \s is not in INVISIBLE even where \p{Cc} holds (tab, newline): it is the gap's whitespace.
  const chars = decodeReference(unit)
    .normalize('NFKD')
    .replace(INVISIBLE, (c) => (/\s/.test(c) ? c : ''))
    .toLowerCase();
  let out = '';
  for (const c of chars) out += CONFUSABLES[c] ?? c;
  if (foldCache.size >= MAX_CACHED) foldCache.clear();
  foldCache.set(unit, out);
  return out;
}

/** The text cut into units, with lazily computed folds. */
class Units {
  /** Offset of each unit in the text, and the text's length last. */
  private readonly starts: number[] = [];

  constructor(readonly text: string) {
    for (let i = 0; i < text.length; ) {
      this.starts.push(i);
      const code = text.charCodeAt(i);
      if (code === 0x26) {
        REFERENCE.lastIndex = i;
        i = REFERENCE.test(text) ? REFERENCE.lastIndex : i + 1;
      } else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
        const next = text.charCodeAt(i + 1);
        i += next >= 0xdc00 && next <= 0xdfff ? 2 : 1;
      } else {
        i += 1;
      }
    }
    this.starts.push(text.length);
  }

  get length(): number {
    return this.starts.length - 1;
  }

  start(i: number): number {
    return this.starts[i]!;
  }

  unit(i: number): string {
    return this.text.slice(this.starts[i], this.starts[i + 1]);
  }

  fold(i: number): string {
    return fold(this.unit(i));
  }
}

const isGap = (folded: string) => /^[\s\\]*$/.test(folded);

/** Whether the unit at `i` is the `/` of a closing tag: a `<` before it across a gap, and a tag name after it. */
function closesTag(units: Units, i: number): boolean {
  if (units.fold(i) !== '/') return false;
  let j = i - 1;
  while (j >= 0 && units.fold(j) !== '<' && isGap(units.fold(j))) j--;
  if (j < 0 || units.fold(j) !== '<') return false;
  let name = '';
  for (let k = i + 1; k < units.length && name.length < LONGEST_NAME; k++) {
    const folded = units.fold(k);
    name = name === '' ? folded.trimStart() : name + folded; // whitespace may come before the name, not inside it
  }
  return TAG_NAMES.some((n) => name.startsWith(n));
}

export function neutraliseDelimiters(text: string): string {
  const units = new Units(text);
  const pieces: string[] = [];
  let from = 0;
  for (let i = 0; i < units.length; i++) {
    if (!closesTag(units, i)) continue;
    pieces.push(text.slice(from, units.start(i)), '\\');
    from = units.start(i);
  }
  pieces.push(text.slice(from));
  return pieces.join('');
}

/** Exactly undoes neutraliseDelimiters. */
export function restoreDelimiters(text: string): string {
  const units = new Units(text);
  const pieces: string[] = [];
  let from = 0;
  for (let i = 1; i < units.length; i++) {
    if (units.unit(i - 1) !== '\\' || !closesTag(units, i)) continue;
    pieces.push(text.slice(from, units.start(i - 1)));
    from = units.start(i);
  }
  pieces.push(text.slice(from));
  return pieces.join('');
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { neutraliseDelimiters, restoreDelimiters } from './delimiters.js';

// Spellings a model could read as a closing tag of ours, and what neutralising makes of each: a backslash right
// before the slash, whatever the slash looks like.
const LOOKALIKES: [string, string][] = [
  ['</report>', '<\\/report>'],
  ['< / REPORT >', '< \\/ REPORT >'],
  ['</report_title>', '<\\/report_title>'],
  ['</message>', '<\\/message>'],
  ['<\u200b/report>', '<\u200b\\/report>'], // zero-width space
  ['</rep\u200dort>', '<\\/rep\u200dort>'], // zero-width joiner
  ['<\u2060/\ufeffreport>', '<\u2060\\/\ufeffreport>'], // word joiner, BOM
  ['\uff1c/report\uff1e', '\uff1c\\/report\uff1e'], // fullwidth ＜ ＞
  ['\uff1c\uff0f\uff52\uff45\uff50\uff4f\uff52\uff54\uff1e', '\uff1c\\\uff0f\uff52\uff45\uff50\uff4f\uff52\uff54\uff1e'], // all fullwidth
  ['\ufe64/report', '\ufe64\\/report'], // small less-than
  ['\u2039/report', '\u2039\\/report'], // ‹
  ['<\u2215report', '<\\\u2215report'], // division slash
  ['<\u2044message', '<\\\u2044message'], // fraction slash
  ['</r\u0435\u0440\u043ert>', '<\\/r\u0435\u0440\u043ert>'], // Cyrillic е р о
  ['</R\u0415\u0420\u041eRT>', '<\\/R\u0415\u0420\u041eRT>'], // Cyrillic capitals
  ['</\u043c\u0435\u0455\u0455\u0430ge>', '<\\/\u043c\u0435\u0455\u0455\u0430ge>'], // Cyrillic м е ѕ ѕ а
  ['</re\u03c1\u03bfrt', '<\\/re\u03c1\u03bfrt'], // Greek ρ ο
  ['</\ud835\udc2b\ud835\udc1e\ud835\udc29\ud835\udc28\ud835\udc2b\ud835\udc2d>', '<\\/\ud835\udc2b\ud835\udc1e\ud835\udc29\ud835\udc28\ud835\udc2b\ud835\udc2d>'], // 𝐫𝐞𝐩𝐨𝐫𝐭
  ['</re\u0301port>', '<\\/re\u0301port>'], // a combining accent
  ['&lt;/report&gt;', '&lt;\\/report&gt;'],
  ['&LT;/report', '&LT;\\/report'],
  ['&lt/report', '&lt\\/report'],
  ['&#60;&#47;report', '&#60;\\&#47;report'],
  ['&#x3C;&#x2f;report', '&#x3C;\\&#x2f;report'],
  ['&lt;&sol;report', '&lt;\\&sol;report'],
  ['</&#114;eport', '<\\/&#114;eport'],
  ['<\\/report>', '<\\\\/report>'], // already in the escaped form
  ['<\uff3c/report>', '<\uff3c\\/report>'], // fullwidth backslash
  ['<\n\t/\n report', '<\n\t\\/\n report'],
];

describe('neutraliseDelimiters', () => {
  it.each(LOOKALIKES)('neutralises %j', (text, neutralised) => {
    expect(neutraliseDelimiters(text)).toBe(neutralised);
    expect(restoreDelimiters(neutralised)).toBe(text);
  });

  it('leaves everything else alone', () => {
    for (const text of ['</div>', '</repo>', '</\u03c1\u03bfrt>', 'a/c <b>report</b>', '<p>/report', '&amp;lt;/report', '1 < 2 / 3 report', '\u2100 <\u2100']) {
      expect(neutraliseDelimiters(text)).toBe(text);
    }
  });

  it('leaves no closing tag that an independent normaliser can still see', () => {
    // NFKC, without invisible characters and combining marks, with the entities and confusables used above decoded.
    const normalise = (s: string) =>
      s
        .replace(/&(lt|LT);?|&#0*60;?|&#[xX]0*3[cC];?/g, '<')
        .replace(/&sol;|&#0*47;?|&#[xX]0*2[fF];?/g, '/')
        .replace(/&#114;/g, 'r')
        .normalize('NFKD')
        .replace(/[\p{Cf}\p{M}]/gu, '')
        .normalize('NFKC')
        .replace(/[\u2039]/g, '<')
        .replace(/[\u2215\u2044]/g, '/')
        .replace(/[\u0440\u0420\u03c1]/g, 'p')
        .replace(/[\u0435\u0415]/g, 'e')
        .replace(/[\u043e\u041e\u03bf]/g, 'o')
        .replace(/[\u043c]/g, 'm')
        .replace(/[\u0455]/g, 's')
        .replace(/[\u0430]/g, 'a');
    const closing = /<\s*\/\s*(report|message)/i;
    for (const [text] of LOOKALIKES) {
      const escaped = /[\\\uff3c]/.test(text); // the forms with a backslash are no closing tag to start with
      if (!escaped) expect(normalise(text)).toMatch(closing);
      expect(normalise(neutraliseDelimiters(text))).not.toMatch(closing);
    }
  });

  it('is undone exactly by restoreDelimiters, for every string', () => {
    // Pieces that make closing tags, their escaped forms and their lookalikes likely, mixed with arbitrary text.
    const piece = fc.oneof(
      fc.constantFrom(...LOOKALIKES.flat(), '<', '/', '\\', ' ', '\n', '&', ';', '&lt', '&#', 'x3c', '\u200b', 'report', 'message', '_title', '>'),
      fc.string({ unit: 'binary', maxLength: 4 }),
      fc.string({ unit: 'grapheme', maxLength: 4 }),
    );
    const text = fc.array(piece, { maxLength: 30 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(fc.oneof(text, fc.string({ unit: 'binary' })), (x) => {
        expect(restoreDelimiters(neutraliseDelimiters(x))).toBe(x);
      }),
      { numRuns: 3_000 },
    );
  });
});

/**
 * FNV-1a (32-bit) over UTF-16 code units, as hex: a cheap fingerprint of a message's text, shown on its element
 * (`data-content-hash`) so that browser tests can check that what is on screen is exactly what was stored.
 */
export function contentHash(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

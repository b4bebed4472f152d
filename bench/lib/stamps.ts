/**
 * The streaming suite's chunks carry their own send time: each chunk's text is the moment the fake model wrote it,
 * in tenths of a millisecond since a run-wide epoch, as five base-36 digits and a space (six characters, about the
 * size of a model's token; 36^5 tenths of a millisecond is 100 minutes). A client reads each chunk's delivery delay
 * off the text it received, whatever the server did to the chunking on the way, with no table of send times.
 */
export const STAMP_CHARS = 6;
const DIGITS = 5;

export function encodeStamp(at: number, epoch: number): string {
  const tenths = Math.max(0, Math.round((at - epoch) * 10));
  return `${tenths.toString(36).padStart(DIGITS, '0')} `;
}

/** The send time (epoch ms) of the stamp that starts at `offset` of `text`. */
export function decodeStamp(text: string, offset: number, epoch: number): number {
  return epoch + parseInt(text.slice(offset, offset + DIGITS), 36) / 10;
}

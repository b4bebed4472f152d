/** A provider-independent estimate; good enough to bound the context, never used for billing. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** The few hast fields the rehype plugins here read and write (see the hast spec); typed here to depend on no parser package. */
export interface HastPoint {
  offset?: number;
}

export interface HastNode {
  type: string;
  tagName?: string;
  value?: string;
  properties?: Record<string, unknown>;
  children?: HastNode[];
  position?: { start: HastPoint; end: HastPoint };
}

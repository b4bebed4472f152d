import { createContext, useContext } from 'react';
import type { Source } from '../api/types.js';

/** How an answer's sources reach the report beside it: the page provides it, citations use it. */
export interface SourceNavigation {
  /** The revision of the report on screen. */
  reportRevision: number;
  /** Scrolls the report to the source's passage and highlights it (on a phone, closes the conversation first). */
  show(source: Source, answerRevision: number | null): void;
}

export const SourceNavigationContext = createContext<SourceNavigation | undefined>(undefined);

export const useSourceNavigation = (): SourceNavigation | undefined => useContext(SourceNavigationContext);

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from '@playwright/test';
import type { AxeResults, Result } from 'axe-core';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const BLOCKING = new Set(['serious', 'critical']);

/**
 * Runs axe-core on the page as it is now (an open dialog included) and returns its serious and critical
 * violations, one line each with the elements at fault, so that a failure says what to fix. axe is evaluated
 * through the DevTools protocol, not added as a <script> (`addScriptTag`): the app's CSP refuses inline scripts,
 * and the pages are checked with that CSP in force rather than a context that bypasses it.
 */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
  // Colours in transition (a hover, a colour scheme just switched) would be measured half-way.
  await page.evaluate(() =>
    Promise.all(
      document
        .getAnimations()
        .filter((a) => Number.isFinite(a.effect?.getComputedTiming().endTime ?? Infinity))
        .map((a) => a.finished.catch(() => undefined)),
    ),
  );
  const results = await page.evaluate(() => (window as unknown as { axe: { run(): Promise<AxeResults> } }).axe.run());
  return results.violations.filter((v: Result) => BLOCKING.has(v.impact ?? '')).map(describe);
}

function describe(v: Result): string {
  const where = v.nodes
    .slice(0, 4)
    .map((n) => n.target.join(' '))
    .join(', ');
  return `${v.impact} ${v.id}: ${v.help} (${where}${v.nodes.length > 4 ? `, +${v.nodes.length - 4} more` : ''})`;
}

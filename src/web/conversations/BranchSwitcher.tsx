import { Icon } from '../ui/icons.js';
import type { BranchPoint } from './branches.js';

/**
 * `‹ 2 / 3 ›` beside the message where branches of the conversation part (branches.ts): moves to the previous or
 * next branch. A screen reader hears the count as "branch 2 of 3".
 */
export function BranchSwitcher({ point, onOpen }: { point: BranchPoint; onOpen: (conversationId: string, seq: number, direction: 'previous' | 'next') => void }) {
  const { branches, current, seq } = point;
  const go = (direction: 'previous' | 'next') => {
    const target = branches[direction === 'previous' ? current - 1 : current + 1];
    if (target) onOpen(target, seq, direction);
  };
  return (
    <div className="branch-switcher" role="group" aria-label="Branches from here">
      <button
        type="button"
        className="icon-button"
        data-direction="previous"
        aria-label="Previous branch"
        disabled={current <= 0}
        onClick={() => go('previous')}
      >
        <Icon name="chevron-left" />
      </button>
      <span className="branch-count">
        <span aria-hidden="true">
          {current + 1} / {branches.length}
        </span>
        <span className="visually-hidden">
          Branch {current + 1} of {branches.length}
        </span>
      </span>
      <button
        type="button"
        className="icon-button"
        data-direction="next"
        aria-label="Next branch"
        disabled={current >= branches.length - 1}
        onClick={() => go('next')}
      >
        <Icon name="chevron-right" />
      </button>
    </div>
  );
}

/** Small line icons (24×24, currentColor), decorative: the words beside them carry the meaning. */
type IconName =
  | 'check'
  | 'clock'
  | 'spinner'
  | 'alert'
  | 'x-circle'
  | 'square'
  | 'unplug'
  | 'send'
  | 'stop'
  | 'close'
  | 'download'
  | 'trash'
  | 'chevron-left'
  | 'chevron-right'
  | 'chevron-down'
  | 'pencil'
  | 'redo'
  | 'plus'
  | 'lock'
  | 'users';

const PATHS: Record<IconName, string> = {
  check: 'M5 12.5l4.5 4.5L19 7.5',
  clock: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM12 7v5l3 2',
  spinner: 'M12 3a9 9 0 1 1-9 9',
  alert: 'M12 3L2 20h20L12 3zM12 10v4M12 17v.5',
  'x-circle': 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM9 9l6 6M15 9l-6 6',
  square: 'M7 7h10v10H7z',
  unplug: 'M9 4v4M15 4v4M7 8h10v3a5 5 0 0 1-10 0zM12 16v4M4 4l16 16',
  send: 'M4 12l16-8-6 16-2-6-8-2z',
  stop: 'M7 7h10v10H7z',
  close: 'M6 6l12 12M18 6L6 18',
  download: 'M12 4v11M7 10l5 5 5-5M5 20h14',
  trash: 'M4 7h16M10 7V4h4v3M6 7l1 13h10l1-13',
  'chevron-left': 'M15 5l-7 7 7 7',
  'chevron-right': 'M9 5l7 7-7 7',
  'chevron-down': 'M6 9l6 6 6-6',
  pencil: 'M4 20l4-1 11-11-3-3L5 16zM14 7l3 3',
  redo: 'M20 5v5h-5M20 10a8 8 0 1 0 1 5',
  plus: 'M12 5v14M5 12h14',
  lock: 'M6 11h12v9H6zM8.5 11V8a3.5 3.5 0 0 1 7 0v3',
  users: 'M9 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM3 20a6 6 0 0 1 12 0M16 5.5a3 3 0 0 1 0 5.5M18 14a5 5 0 0 1 3 6',
};

export function Icon({ name, className }: { name: IconName; className?: string }) {
  return (
    <svg
      viewBox="0 0 24 24"
      width="16"
      height="16"
      className={`icon icon-${name}${className ? ` ${className}` : ''}`}
      aria-hidden="true"
      focusable="false"
    >
      <path d={PATHS[name]} fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round" />
    </svg>
  );
}

export type { IconName };

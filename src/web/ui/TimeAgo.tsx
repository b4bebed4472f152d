import { fullTime, timeAgo } from './format-time.js';

export function TimeAgo({ iso }: { iso: string }) {
  return (
    <time dateTime={iso} title={fullTime(iso)}>
      {timeAgo(iso)}
    </time>
  );
}

import { describe, expect, it } from 'vitest';
import { EventFeed } from './event-feed.js';

describe('EventFeed.listen', () => {
  it('hands over what was queued, then each push at once, in order, with no await between', () => {
    const feed = new EventFeed<number>();
    feed.push(1);
    feed.push(2);
    const seen: number[] = [];
    feed.listen((n) => seen.push(n), () => {});
    expect(seen).toEqual([1, 2]);
    feed.push(3);
    expect(seen).toEqual([1, 2, 3]); // synchronously: the publisher's own turn
  });

  it("a producer's failure goes to onFailure, before or after listen, and the feed ends", () => {
    const early = new EventFeed<number>();
    early.fail(new Error('read failed'));
    const failures: unknown[] = [];
    early.listen(() => {}, (err) => failures.push(err));
    const late = new EventFeed<number>();
    const ended: string[] = [];
    late.onEnd(() => ended.push('late'));
    late.listen(() => {}, (err) => failures.push(err));
    late.fail(new Error('bus lost'));
    expect(failures.map((e) => (e as Error).message)).toEqual(['read failed', 'bus lost']);
    expect(ended).toEqual(['late']);
    late.push(4); // nothing after the end
  });

  it('close ends it for the listener too: end handlers run once, later pushes are dropped', () => {
    const feed = new EventFeed<number>();
    const seen: number[] = [];
    let ends = 0;
    feed.onEnd(() => ends++);
    feed.listen((n) => seen.push(n), () => {});
    feed.push(1);
    feed.close();
    feed.close();
    feed.push(2);
    expect(seen).toEqual([1]);
    expect(ends).toBe(1);
  });
});

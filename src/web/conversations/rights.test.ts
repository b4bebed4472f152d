import { describe, expect, it } from 'vitest';
import { conversationRights } from './rights.js';

const main = { isMain: true, createdBy: 'owner' };
const mine = { isMain: false, createdBy: 'me' };
const theirs = { isMain: false, createdBy: 'someone' };
const offered = (r: ReturnType<typeof conversationRights>) => Object.entries(r).filter(([, v]) => v).map(([k]) => k).sort();

describe('conversationRights', () => {
  it('lets the report owner rename and clear the main conversation, never delete or unshare it', () => {
    expect(offered(conversationRights(main, 'owner', 'owner'))).toEqual(['clear', 'rename']);
    expect(offered(conversationRights(main, 'me', 'editor'))).toEqual([]);
  });

  it('lets the creator do everything with their conversation, whatever their role', () => {
    expect(offered(conversationRights(mine, 'me', 'editor'))).toEqual(['changeVisibility', 'clear', 'delete', 'rename']);
  });

  it('lets the report owner manage someone else’s shared conversation, but not change who sees it', () => {
    expect(offered(conversationRights(theirs, 'me', 'owner'))).toEqual(['clear', 'delete', 'rename']);
    expect(offered(conversationRights(theirs, 'me', 'editor'))).toEqual([]);
    expect(offered(conversationRights(theirs, undefined, 'editor'))).toEqual([]);
  });
});

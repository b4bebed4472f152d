import { useCallback, useEffect, useLayoutEffect, useRef, type RefObject } from 'react';

const NEAR_BOTTOM_PX = 48;

/**
 * Scrolling of the message list: it follows new text only while the person is at the bottom; older messages
 * put in at the top keep what the person is reading in place.
 */
export function useScrollAnchor(
  scroller: RefObject<HTMLElement | null>,
  firstId: string | undefined,
  contentKey: unknown,
  visible: boolean,
): { onScroll: () => void; scrollToBottom: () => void } {
  const atBottom = useRef(true);
  const previous = useRef<{ firstId: string | undefined; height: number; top: number }>({ firstId: undefined, height: 0, top: 0 });

  const onScroll = useCallback(() => {
    const el = scroller.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight <= NEAR_BOTTOM_PX;
    previous.current = { ...previous.current, height: el.scrollHeight, top: el.scrollTop };
  }, [scroller]);

  /**
   * The browser delivers a scroll event a frame after the scroll itself, so new text can be laid out in between,
   * while `atBottom` still says "at the bottom": pinning then would pull the person back down from where they just
   * scrolled to. scrollTop, though, is current. When it moved since we last set or saw it, the person scrolled:
   * judge where they are against the height the list had before this change (appended text does not move them).
   */
  const noticeUnreportedScroll = useCallback((el: HTMLElement) => {
    const before = previous.current;
    if (Math.abs(el.scrollTop - before.top) < 1) return;
    atBottom.current = Math.max(before.height, el.clientHeight) - el.scrollTop - el.clientHeight <= NEAR_BOTTOM_PX;
  }, []);

  const scrollToBottom = useCallback(() => {
    const el = scroller.current;
    if (!el) return;
    atBottom.current = true;
    el.scrollTop = el.scrollHeight;
    previous.current = { ...previous.current, height: el.scrollHeight, top: el.scrollTop };
  }, [scroller]);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el || !visible) return; // hidden (a closed drawer): nothing to measure until it shows
    const before = previous.current;
    const prepended = before.firstId !== undefined && firstId !== before.firstId && el.scrollHeight > before.height;
    if (!prepended) noticeUnreportedScroll(el);
    if (atBottom.current) el.scrollTop = el.scrollHeight;
    else if (prepended) el.scrollTop = before.top + (el.scrollHeight - before.height);
    previous.current = { firstId, height: el.scrollHeight, top: el.scrollTop };
  }, [scroller, firstId, contentKey, visible, noticeUnreportedScroll]);

  // Whatever else changes the size of the list or of its viewport (a composer that grows, a window resized,
  // text that wraps anew) keeps the person at the bottom if that is where they were.
  useEffect(() => {
    const el = scroller.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(() => {
      noticeUnreportedScroll(el);
      if (atBottom.current) el.scrollTop = el.scrollHeight;
      previous.current = { ...previous.current, height: el.scrollHeight, top: el.scrollTop };
    });
    observer.observe(el);
    if (el.firstElementChild) observer.observe(el.firstElementChild);
    return () => observer.disconnect();
  }, [scroller, noticeUnreportedScroll]);

  return { onScroll, scrollToBottom };
}

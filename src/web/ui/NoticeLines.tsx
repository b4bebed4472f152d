export type Notice = { tone: 'status' | 'alert'; text: string };

/**
 * What an action just did (role="status") or why it failed (role="alert"). Both lines stay in the page, empty when
 * there is nothing to say: a live region announces what is put into it, not a region that appears with its text.
 */
export function NoticeLines({ notice }: { notice: Notice | undefined }) {
  return (
    <>
      <p className="notice-line" role="status">
        {notice?.tone === 'status' ? notice.text : ''}
      </p>
      <p className="notice-line field-error" role="alert">
        {notice?.tone === 'alert' ? notice.text : ''}
      </p>
    </>
  );
}

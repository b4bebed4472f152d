/** A read that failed, said with the reason, and a way to try it again. */
export function LoadFailed({ what, message, onRetry }: { what: string; message: string; onRetry: () => void }) {
  return (
    <div className="callout callout-danger" role="alert">
      <p>
        {what} could not be loaded: {message}
      </p>
      <button type="button" className="button button-small" onClick={onRetry}>
        Try again
      </button>
    </div>
  );
}

export function SuggestedQuestions({ questions, onAsk, disabled }: { questions: string[]; onAsk: (q: string) => void; disabled: boolean }) {
  if (questions.length === 0) return null;
  return (
    <div className="suggestions">
      <p className="suggestions-title" id="suggestions-title">
        Start with a question
      </p>
      <ul className="suggestions-list" aria-labelledby="suggestions-title">
        {questions.map((q) => (
          <li key={q}>
            <button type="button" className="suggestion" disabled={disabled} onClick={() => onAsk(q)}>
              {q}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The API's rule for a new password (its schema: 8 to 1024 characters). */
export const MIN_PASSWORD_LENGTH = 8;
const MAX_PASSWORD_LENGTH = 1024;

export type NewPasswordProblem = { field: 'next' | 'repeat'; text: string };

/** What is wrong with a new password typed twice, said for a person; undefined when it can be sent. */
export function checkNewPassword(next: string, repeat: string): NewPasswordProblem | undefined {
  if (next.length < MIN_PASSWORD_LENGTH) return { field: 'next', text: `The new password needs at least ${MIN_PASSWORD_LENGTH} characters.` };
  if (next.length > MAX_PASSWORD_LENGTH) return { field: 'next', text: `The new password may have at most ${MAX_PASSWORD_LENGTH} characters.` };
  if (repeat !== next) return { field: 'repeat', text: 'The two passwords are not the same.' };
  return undefined;
}

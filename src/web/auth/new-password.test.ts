import { describe, expect, it } from 'vitest';
import { checkNewPassword, MIN_PASSWORD_LENGTH } from './new-password.js';

describe('checkNewPassword', () => {
  it('asks for the length the API requires', () => {
    expect(checkNewPassword('a'.repeat(MIN_PASSWORD_LENGTH - 1), 'a'.repeat(MIN_PASSWORD_LENGTH - 1))).toMatchObject({ field: 'next' });
    expect(checkNewPassword('a'.repeat(MIN_PASSWORD_LENGTH), 'a'.repeat(MIN_PASSWORD_LENGTH))).toBeUndefined();
    expect(checkNewPassword('a'.repeat(1025), 'a'.repeat(1025))).toMatchObject({ field: 'next' });
  });

  it('points at the repeated field when the two differ', () => {
    expect(checkNewPassword('long enough', 'long enougH')).toEqual({ field: 'repeat', text: 'The two passwords are not the same.' });
  });
});

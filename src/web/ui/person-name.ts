/** How a person is named on a page: their name, else their email (a JWT user may have neither). */
export const personName = (person: { name: string | null; email: string | null }): string => person.name ?? person.email ?? 'Someone without a name or email';

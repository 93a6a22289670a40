/** What an agency registration looks like, from the admin API or the AGENCIES_FILE alike. */
import { z } from 'zod';
import { AGENCY_KINDS } from './model.js';

/** The same shape as a token's `agency` claim: an agency id must be usable in tokens. */
export const agencyIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'expected an agency id (letters, digits, . _ -)');

export const agencySchema = z.object({
  id: agencyIdSchema,
  name: z.string().trim().min(1).max(200),
  kind: z.enum(AGENCY_KINDS),
});

export const agencyListSchema = z.array(agencySchema).superRefine((list, ctx) => {
  const seen = new Set<string>();
  list.forEach((a, i) => {
    if (seen.has(a.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `agency ${a.id} listed twice` });
    seen.add(a.id);
  });
});

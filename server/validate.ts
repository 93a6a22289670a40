import type { z } from 'zod';
import { DossierError } from '../dossier/errors.js';

function parse<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const first = r.error.issues[0];
    const field = first?.path.join('.') || where;
    throw new DossierError('bad_request', `${field}: ${first?.message ?? 'invalid'}`);
  }
  return r.data;
}

export const parseBody = <T extends z.ZodType>(schema: T, body: unknown) => parse(schema, body ?? {}, 'body');
export const parseQuery = <T extends z.ZodType>(schema: T, query: unknown) => parse(schema, query, 'query');

/** The Idempotency-Key header of a POST that creates something: 1 to 200 visible ASCII characters. */
import type { Request } from 'express';
import { z } from 'zod';
import { parseBody } from './validate.js';

const idempotencyKey = z.string().regex(/^[\x21-\x7e]{1,200}$/, 'Idempotency-Key: expected 1 to 200 visible ASCII characters');

export function idempotencyKeyOf(req: Request): string | null {
  const header = req.get('Idempotency-Key');
  return header === undefined ? null : parseBody(idempotencyKey, header);
}

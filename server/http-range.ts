/**
 * One byte range of a representation (RFC 9110 §14): `bytes=N-`, `bytes=N-M` or `bytes=-S`,
 * honoured only while If-Range, when sent, is the representation's strong ETag (compared strongly,
 * so a changed representation is sent whole, never spliced). Several ranges or junk: the whole.
 */

import type { Request, Response } from 'express';

export type ByteRange = { readonly start: number; readonly end: number };

/** The range to send (inclusive), null for the whole representation, or 'unsatisfiable' (416). */
export function requestedRange(header: string | undefined, size: number, ifRange: string | string[] | undefined, etag: string): ByteRange | null | 'unsatisfiable' {
  if (!header || (ifRange !== undefined && ifRange !== etag)) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null; // several ranges or junk: send it all
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (!Number.isSafeInteger(start) || start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

/**
 * The status and length headers for the range: 416 (answered here), 206 with Content-Range, or
 * 200 with the whole length. True when a body is to follow (not for 416, not for HEAD, which is answered).
 */
export function answerRange(req: Request, res: Response, range: ByteRange | null | 'unsatisfiable', size: number): range is ByteRange | null {
  if (range === 'unsatisfiable') {
    res.status(416).setHeader('Content-Range', `bytes */${size}`).end();
    return false;
  }
  if (range) {
    res.status(206).setHeader('Content-Range', `bytes ${range.start}-${range.end}/${size}`);
    res.setHeader('Content-Length', range.end - range.start + 1);
  } else {
    res.setHeader('Content-Length', size);
  }
  if (req.method === 'HEAD') {
    res.end();
    return false;
  }
  return true;
}

/**
 * The application's only way to the server: the public HTTP API, same-origin, with the session
 * cookie (sent by the browser) and the session's CSRF token on every state-changing request.
 */
let csrfToken: string | null = null;

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export const csrfHeaders = (): Record<string, string> => (csrfToken ? { 'X-CSRF-Token': csrfToken } : {});

/** Called when the session is gone (401): the app shows the sign-in screen. */
let onSignedOut: () => void = () => {};
export const whenSignedOut = (fn: () => void) => (onSignedOut = fn);

export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') Object.assign(headers, csrfHeaders());
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  if (res.status === 204) return undefined as T;
  const json = await res.json().catch(() => null);
  if (!res.ok) {
    const code = json?.error?.code ?? 'internal';
    if (res.status === 401 && path !== '/api/session') onSignedOut();
    throw new ApiError(res.status, code, json?.error?.message ?? res.statusText);
  }
  return json as T;
}

export const get = <T = any>(path: string) => api<T>('GET', path);
export const post = <T = any>(path: string, body?: unknown) => api<T>('POST', path, body ?? {});

export interface Session {
  user: string;
  agency: string;
  roles: string[];
  csrfToken: string;
  expiresAt: string;
}

export interface Dossier {
  id: string;
  caseId: string;
  filename: string;
  title: string | null;
  status: 'receiving' | 'processing' | 'sealed' | 'rejected';
  pageCount: number | null;
  bytes: number | null;
  received?: number;
  sha256: string | null;
  merkleRoot: string | null;
  sealedAt: string | null;
  createdAt: string;
  progress: { pages: number; thumbnails: number; ocr: { done: number; failed: number; total: number } | null };
  error?: { code: string; message: string };
  /** A sealed dossier's bookmarks (its PDFs' outlines), in GET /api/dossiers/:id only. */
  outline?: OutlineEntry[];
}

export interface OutlineEntry {
  title: string;
  page: number | null;
  children: OutlineEntry[];
}

export interface Case {
  id: string;
  number: string;
  numbers: { agency: string; number: string }[];
  title: string;
  agency: string;
  createdAt: string;
  dossiers?: Dossier[];
}

export interface Page {
  index: number;
  sha256: string;
  size: number;
  mediaType: string;
  width: number | null;
  height: number | null;
  source: string | null;
  thumbnail: boolean;
  ocr: { status: string; confidence: number | null } | null;
}

export interface Transfer {
  id: string;
  dossierId: string;
  caseId: string;
  fromAgency: string;
  toAgency: string;
  stage: string;
  note: string | null;
  status: 'pending' | 'accepted' | 'returned';
  sentBy: string;
  sentAt: string;
  answeredBy: string | null;
  answeredAt: string | null;
  reason: string | null;
  receipt: string | null;
}

export interface Stage {
  name: string;
  label: { en: string; 'zh-CN': string };
  deadline: string;
}

export interface Agency {
  id: string;
  name: string;
  kind: string;
}

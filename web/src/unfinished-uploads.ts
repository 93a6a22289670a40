/**
 * Uploads this browser started and did not finish, as tus-js-client (under @uppy/tus) remembers
 * them in localStorage: `tus::<fingerprint>::<n>` → `{ size, metadata, creationTime, uploadUrl }`.
 * Uppy's fingerprint is `tus-<file id>-<endpoint>` and its file ids begin with the Uppy
 * instance's id, which names the user and the case (uploadsId): so the same file dropped on
 * another case, or by another user of this browser, never continues this one's upload.
 */

export const TUS_ENDPOINT = '/files/';

/** The Uppy instance id of a user's uploads onto one case. */
export const uploadsId = (user: string, caseId: string): string => `dossier-${caseId}-${user}`;

export interface UnfinishedUpload {
  readonly filename: string;
  readonly size: number;
  /** Bytes the server holds (its tus offset, asked now). */
  readonly received: number;
  readonly startedAt: Date | null;
}

interface StoredUpload {
  size?: number;
  metadata?: Record<string, string>;
  creationTime?: string;
  uploadUrl?: string;
}

/** The remembered uploads of this user onto this case that the server still holds unfinished. */
export async function unfinishedUploads(user: string, caseId: string): Promise<UnfinishedUpload[]> {
  const prefix = `tus::tus-${uploadsId(user, caseId)}-`;
  const stored: [string, StoredUpload][] = [];
  for (let i = 0; i < localStorage.length; i++) {
    const key = localStorage.key(i);
    if (!key?.startsWith(prefix)) continue;
    try {
      stored.push([key, JSON.parse(localStorage.getItem(key) ?? 'null') as StoredUpload]);
    } catch {
      // A broken entry is tus-js-client's to ignore, and ours.
    }
  }
  const found = await Promise.all(
    stored.map(async ([key, s]): Promise<UnfinishedUpload | null> => {
      if (!s?.uploadUrl || !s.size) return null;
      // HEAD is not state-changing: the session cookie is enough, no CSRF token.
      const res = await fetch(s.uploadUrl, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' }, credentials: 'same-origin' }).catch(() => null);
      if (!res) return null;
      // Gone, expired or not this agency's: tus-js-client would forget it at the next try too.
      if (res.status >= 400 && res.status < 500) localStorage.removeItem(key);
      if (!res.ok) return null;
      const received = Number(res.headers.get('Upload-Offset'));
      if (!Number.isFinite(received) || received >= s.size) return null;
      const startedAt = s.creationTime ? new Date(s.creationTime) : null;
      return { filename: s.metadata?.filename ?? '?', size: s.size, received, startedAt: startedAt && !Number.isNaN(startedAt.getTime()) ? startedAt : null };
    }),
  );
  return found.filter((u): u is UnfinishedUpload => u !== null);
}

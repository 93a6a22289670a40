/**
 * Many dossiers' status in one request (GET /api/dossiers?ids=…, at most 100 ids), as GET
 * /api/dossiers/:id answers each. A dossier left out of the answer is gone or not ours to see.
 */
import { apiJson, type DossierJson } from './resumable-upload.js';

/** The server's limit on ids per request. */
export const STATUS_BATCH = 100;

/** The visible ones by id; null when the server has no such route (an older gateway: ask one by one). */
export async function dossiersStatus(server: string, token: string, ids: readonly string[]): Promise<Map<string, DossierJson> | null> {
  const { status, json } = await apiJson<{ dossiers: DossierJson[] }>(server, token, 'GET', `/api/dossiers?ids=${ids.join(',')}`);
  if (status === 404) return null;
  if (status !== 200) throw new Error(`GET /api/dossiers?ids=…: ${status} ${JSON.stringify(json)}`);
  return new Map(json.dossiers.map((d) => [d.id, d]));
}

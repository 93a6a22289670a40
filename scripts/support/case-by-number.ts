/**
 * `dossier upload --case`: a clerk knows her case number ("2026-0417"), not the case's UUID.
 * A UUID is taken as it is; a number is looked up among the cases the caller sees, and with
 * `create` a case of that number is opened in the caller's agency when none is found.
 */
import { apiJson } from './resumable-upload.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface CaseJson {
  id: string;
  number: string;
  agency: string;
  numbers: { agency: string; number: string }[];
}

export class CaseLookupError extends Error {
  override readonly name = 'CaseLookupError';
}

export interface CaseTarget {
  readonly id: string;
  /** True when this run opened the case. */
  readonly created: boolean;
}

export async function caseByNumber(server: string, token: string, ref: string, create?: { title: string }): Promise<CaseTarget> {
  if (UUID.test(ref)) return { id: ref.toLowerCase(), created: false };
  const found = await apiJson<{ cases: CaseJson[] } | { error: { code: string; message: string } }>(server, token, 'GET', `/api/cases?number=${encodeURIComponent(ref)}&limit=10`);
  if (found.status !== 200 || !('cases' in found.json)) throw new CaseLookupError(`looking up case ${ref}: ${found.status} ${JSON.stringify(found.json)}`);
  let matches = found.json.cases;
  if (matches.length > 1) {
    // Several agencies use the number: the caller's own numbering decides.
    const me = await apiJson<{ agency: string }>(server, token, 'GET', '/api/session');
    matches = matches.filter((c) => c.numbers.some((n) => n.agency === me.json.agency && n.number === ref));
    if (matches.length !== 1) throw new CaseLookupError(`case number ${ref} names several cases (${found.json.cases.map((c) => `${c.id} of ${c.agency}`).join(', ')}); pass the case id`);
  }
  if (matches.length === 1) return { id: matches[0]!.id, created: false };
  if (!create) throw new CaseLookupError(`no case numbered ${ref} is visible to you; add --create (with --case-title) to open it`);
  const made = await apiJson<CaseJson | { error: { code: string; message: string } }>(server, token, 'POST', '/api/cases', { number: ref, title: create.title });
  // Another upload opened it between our look-up and our create: use that one.
  if (made.status === 409) return caseByNumber(server, token, ref);
  if (made.status !== 201 || !('id' in made.json)) throw new CaseLookupError(`opening case ${ref}: ${made.status} ${JSON.stringify(made.json)}`);
  return { id: made.json.id, created: true };
}

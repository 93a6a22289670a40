/**
 * One dossier of a migration, from the archive to its final state on the server. An upload slot
 * is held only while the bytes go up; the wait for the seal happens in the shared SealWatcher, so
 * the next upload starts at once. Every failure becomes the item's outcome: nothing here throws.
 */
import fs from 'node:fs/promises';
import { decodeJwt } from 'jose';
import type { LimitFunction } from 'p-limit';
import { hashFile } from '../../dossier/hash.js';
import type { PlannedCase, PlannedDossier } from './archive-plan.js';
import { folderZip } from './folder-zip.js';
import type { ItemOutcome, ItemRecord, MigrateJournal } from './migrate-journal.js';
import { apiJson, resumableUpload, type DossierJson } from './resumable-upload.js';
import type { MigratePhases } from './migrate-phases.js';
import type { SealWatcher } from './seal-watcher.js';

export interface ItemDeps {
  readonly server: string;
  readonly token: string;
  readonly journal: MigrateJournal;
  readonly workDir: string;
  /** Re-read and re-hash files even when their size and mtime are those already migrated. */
  readonly rehash: boolean;
  readonly uploadSlots: LimitFunction;
  readonly watcher: SealWatcher;
  /** Uploaded dossiers not yet sealed, at most: the server's ingest sets the pace. */
  readonly maxUnsealed: number;
  readonly cases: CaseDirectory;
  readonly phases: MigratePhases;
}

/** Sent with the tus creation request: losing its upload URL in a crash costs a re-send of at most this. */
const SMALL_FILE_BYTES = 8 * 1024 * 1024;

/** How the item ended in this run: its bytes sent now, found done already, or failed. */
export type ItemHow = 'sent' | 'alreadyThere' | 'failed';

/**
 * An item the journal knows as done with the same path, size and mtime (and no --rehash): decided
 * from the journal alone, nothing read or asked, no line appended. Undefined when it needs work.
 */
export function doneInJournal(x: Pick<ItemDeps, 'journal' | 'rehash'>, d: PlannedDossier): { outcome: ItemOutcome; how: ItemHow } | undefined {
  const known = x.journal.get(d.key);
  if (x.rehash || known?.stamp !== d.stamp || (known.status !== 'sealed' && known.status !== 'skipped')) return undefined;
  return { outcome: outcomeOf(known), how: 'alreadyThere' };
}

export async function migrateItem(x: ItemDeps, c: PlannedCase, d: PlannedDossier): Promise<{ outcome: ItemOutcome; how: ItemHow; sealedNow?: DossierJson }> {
  const done = doneInJournal(x, d);
  if (done) return done;
  const known = x.journal.get(d.key);
  const unchanged = known?.stamp === d.stamp && !x.rehash;
  let base: ItemRecord = { case: c.number, item: d.key, caseId: null, dossierId: null, status: 'failed', pages: null, bytes: 0, sha256: null, error: null, stamp: d.stamp };
  let file: string | null = null;
  try {
    let pending: { id: string; sent: boolean } | { held: DossierJson };
    if (unchanged && known.status === 'uploaded' && known.dossierId) {
      base = { ...known };
      pending = { id: known.dossierId, sent: false };
    } else {
      pending = await x.uploadSlots(async () => {
        await x.phases.time('room', () => x.watcher.room(x.maxUnsealed));
        const { id: caseId, createdNow } = await x.phases.time('case', () => x.cases.ensure(c));
        const source = d.kind === 'folder' ? await folderZip(d.path, x.workDir) : d.path;
        file = source;
        const { sha256, size } = await x.phases.time('hash', () => hashFile(source));
        base = { ...base, caseId, sha256, bytes: size };
        // A case made by this run holds nothing yet; any other may hold this very file already.
        const held = createdNow ? undefined : await x.phases.time('heldCheck', () => heldByServer(x, caseId, sha256));
        if (held) return { held };
        const url = await x.phases.time('upload', () => resumableUpload({
          file: source, server: x.server, token: x.token, chunkSize: 64 * 1024 * 1024,
          metadata: { filename: d.filename, caseId },
          urlStorage: x.journal.urlStorage(),
          // heldByServer finds a small file the server got whole before a crash let us journal it.
          dataDuringCreation: size <= SMALL_FILE_BYTES,
          fingerprintParts: [caseId, x.server],
        }));
        const id = url.split('/').pop()!;
        base = { ...base, dossierId: id, status: 'uploaded' };
        await x.journal.record(base);
        return { id, sent: true };
      });
    }
    const alreadyThere = 'held' in pending;
    const waitFor = 'held' in pending ? pending.held.id : pending.id;
    const final = 'held' in pending && pending.held.status === 'sealed' ? pending.held : await x.phases.time('seal', () => x.watcher.wait(waitFor));
    const outcome: ItemRecord = {
      ...base,
      dossierId: final.id,
      pages: final.pageCount,
      status: final.status === 'sealed' ? (alreadyThere ? 'skipped' : 'sealed') : 'rejected',
      error: final.error ? `${final.error.code}: ${final.error.message}` : null,
    };
    await x.journal.record(outcome);
    if (d.kind === 'folder' && file) await fs.rm(file, { force: true });
    const sent = !alreadyThere && (pending as { sent: boolean }).sent;
    const how = outcome.status === 'rejected' ? 'failed' : sent ? 'sent' : 'alreadyThere';
    return { outcome: outcomeOf(outcome), how, ...(how === 'sent' ? { sealedNow: final } : {}) };
  } catch (err) {
    const failed: ItemRecord = { ...base, status: 'failed', error: err instanceof Error ? err.message : String(err) };
    // Recorded if the journal can still be written; the report carries it either way.
    await x.journal.record(failed).catch(() => {});
    return { outcome: outcomeOf(failed), how: 'failed' };
  }
}

async function heldByServer(x: ItemDeps, caseId: string, sha256: string): Promise<DossierJson | undefined> {
  const res = await apiJson<{ dossiers: DossierJson[] }>(x.server, x.token, 'GET', `/api/cases/${caseId}`);
  if (res.status !== 200) throw new Error(`GET /api/cases/${caseId}: ${res.status}`);
  return res.json.dossiers.find((held) => held.sha256 === sha256 && held.status !== 'rejected');
}

function outcomeOf(r: ItemRecord): ItemOutcome {
  const { stamp: _stamp, ...outcome } = r;
  return outcome;
}

/** Case ids by number: from the journal, else created (or found) on the server once per run. */
export class CaseDirectory {
  private readonly resolving = new Map<string, Promise<{ id: string; createdNow: boolean }>>();

  constructor(private readonly server: string, private readonly token: string, private readonly journal: MigrateJournal) {}

  ensure(c: PlannedCase): Promise<{ id: string; createdNow: boolean }> {
    let p = this.resolving.get(c.number);
    if (!p) {
      const known = this.journal.caseId(c.number);
      p = known ? Promise.resolve({ id: known, createdNow: false }) : this.findOrCreate(c);
      // A failure is not remembered: the next item of the case tries again.
      p.catch(() => this.resolving.delete(c.number));
      this.resolving.set(c.number, p);
    }
    return p;
  }

  private async findOrCreate(c: PlannedCase): Promise<{ id: string; createdNow: boolean }> {
    const created = await apiJson<{ id: string; error?: { message: string } }>(this.server, this.token, 'POST', '/api/cases', { number: c.number, title: c.title });
    let id: string | undefined;
    if (created.status === 201) id = created.json.id;
    else if (created.status === 409) id = await this.findOurs(c.number);
    if (!id) throw new Error(`case ${c.number}: ${created.status} ${created.json?.error?.message ?? ''}`);
    await this.journal.recordCase(c.number, id);
    return { id, createdNow: created.status === 201 };
  }

  /** `?number=` matches any agency's number for a case; ours is the one our agency gave it. */
  private async findOurs(number: string): Promise<string | undefined> {
    const claim = decodeJwt(this.token).agency; // read, not verified: the server verifies it on every call
    const agency = typeof claim === 'string' ? claim : undefined;
    const found = await apiJson<{ cases: { id: string; numbers?: { agency: string; number: string }[] }[] }>(this.server, this.token, 'GET', `/api/cases?number=${encodeURIComponent(number)}`);
    return found.json.cases.find((k) => k.numbers?.some((n) => n.agency === agency && n.number === number))?.id;
  }
}

/**
 * Tamper evidence: seeded random single-byte changes to what the gateway keeps and hands out,
 * each of which the matching verification must catch:
 * - an export's pages, manifest, custody receipts and original (verify-export.ts and
 *   verify-receipts.ts, as `dossier verify` runs them, over the export's files in memory);
 * - the stored page blobs on the gateway's disk (the page hash check: the page served after the
 *   change no longer has the hash the manifest signed; every tenth time the whole export streamed
 *   afterwards is verified too and must name that page);
 * - audit rows in the database (verify-chain.ts through the audit log: the changed seq named).
 * Every change is undone before the next. A failure prints fast-check's seed (TAMPER_SEED, or
 * FUZZ_SEED) and the change. Positions inside a JWS cover its text, not the file's trailing newline.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import type { JSONWebKeySet } from 'jose';
import { verifyExport, type ExportSource, type ProblemCode } from '../../dossier/evidence/verify-export.js';
import { openExport } from '../../scripts/support/export-source.js';
import { agenciesFile, downloadExport, sealedDossier, send } from '../support/custody.js';
import { testEnv } from '../support/env.js';
import { tempDir } from '../support/fixtures.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { recordCase, recordFigures } from './results.js';
import { pageOnDisk } from '../support/page-on-disk.js';

const TOTAL = Math.max(4, testEnv.tamperRuns);
const EXPORT_RUNS = Math.floor(TOTAL * 0.6);
const BLOB_RUNS = Math.floor(TOTAL * 0.15);
const AUDIT_RUNS = TOTAL - EXPORT_RUNS - BLOB_RUNS;

type Kind = 'page' | 'manifest' | 'receipt' | 'original';
const CAUGHT_AS: Record<Kind, readonly ProblemCode[]> = {
  page: ['page_mismatch'],
  manifest: ['signature_invalid', 'manifest_malformed', 'manifest_missing'],
  receipt: ['receipt_invalid', 'receipt_malformed'],
  original: ['original_mismatch'],
};

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** An export held in memory, as `dossier verify` reads one from a ZIP or a folder. */
function memorySource(files: ReadonlyMap<string, Buffer>): ExportSource {
  return {
    list: async () => [...files.keys()],
    read: async (p) => files.get(p) ?? null,
    digest: async (p, o) => {
      const b = files.get(p);
      if (!b) return null;
      return { sha256: sha(b), size: b.length, ...(o?.sm3 ? { sm3: createHash('sm3').update(b).digest('hex') } : {}) };
    },
  };
}

const kindOf = (p: string): Kind | null =>
  p.startsWith('pages/') ? 'page' : p === 'manifest.jws' ? 'manifest' : p.startsWith('receipts/') ? 'receipt' : p.startsWith('original/') ? 'original' : null;

/** How many bytes of a file may change: a JWS's text without its trailing newline, else all. */
const changeable = (p: string, b: Buffer) => (p.endsWith('.jws') ? b.toString('latin1').trimEnd().length : b.length);

const change = fc.record({ file: fc.nat(), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) });

describe('tamper evidence: single-byte changes are detected @tamper', function () {
  this.timeout(900_000);
  let dir: string;
  let gw: TestGateway;
  let prosecutor: string;
  let auditor: string;
  let dossierId: string;
  let jwks: JSONWebKeySet;
  let files: Map<string, Buffer>;
  const caught: Record<string, Record<string, number>> = {};
  const count = (what: string, code: string) => ((caught[what] ??= {})[code] = (caught[what]![code] ?? 0) + 1);

  before(async () => {
    dir = await tempDir('dossier-tamper-');
    gw = await startGateway({ AGENCIES_FILE: await agenciesFile(dir), OCR_WORKERS: '1' });
    const police = await gw.token('police-1', 'clerk');
    prosecutor = await gw.token('procuratorate-1', 'prosecutor');
    auditor = await gw.token('police-1', 'auditor');
    const caseId = (await gw.api('POST', '/api/cases', police, { number: 'TAMPER-1', title: 'tamper evidence' })).json.id;
    const sealed = await sealedDossier(gw, police, caseId, 31, 4);
    dossierId = sealed.id;
    const transfer = await send(gw, police, dossierId, 'procuratorate-1', 'arrest-review');
    expect((await gw.api('POST', `/api/transfers/${transfer}/accept`, prosecutor, {})).status).to.equal(200);
    jwks = (await gw.api('GET', '/.well-known/jwks.json', null)).json;
    files = await exportFiles();
    const kinds = [...files.keys()].map(kindOf);
    for (const k of ['page', 'manifest', 'receipt', 'original'] as const) expect(kinds, `the export has a ${k}`).to.include(k);
    console.log(`      tamper seed ${testEnv.tamperSeed}: ${EXPORT_RUNS} export bytes, ${BLOB_RUNS} stored page bytes, ${AUDIT_RUNS} audit row bytes (TAMPER_RUNS to change)`);
  });
  after(async () => {
    recordFigures('tamper', { seed: testEnv.tamperSeed, exportRuns: EXPORT_RUNS, blobRuns: BLOB_RUNS, auditRuns: AUDIT_RUNS, caught });
    await gw?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** The dossier's export as the prosecutor downloads it, file by file. */
  async function exportFiles(): Promise<Map<string, Buffer>> {
    const zip = path.join(dir, `export-${Date.now()}-${Math.random()}.zip`);
    await downloadExport(gw, prosecutor, dossierId, zip);
    const src = await openExport(zip);
    const out = new Map<string, Buffer>();
    for (const p of await src.list()) if (!p.endsWith('/')) out.set(p, (await src.read(p))!);
    await src.close();
    await fs.rm(zip);
    return out;
  }

  it('the untouched export verifies (every detection below is of the change)', async () => {
    const r = await verifyExport(memorySource(files), { jwks, requireOriginal: true });
    expect(r.problems).to.deep.equal([]);
    expect(r.receipts.map((x) => x.ok)).to.deep.equal([true]);
  });

  for (const kind of ['page', 'manifest', 'receipt', 'original'] as const) {
    const runs = Math.ceil(EXPORT_RUNS / 4);
    it(`${runs} single-byte changes to the export's ${kind} files are each caught as ${CAUGHT_AS[kind].join(' or ')}`, async () => {
      const started = performance.now();
      const targets = [...files.keys()].filter((p) => kindOf(p) === kind).sort();
      await fc.assert(
        fc.asyncProperty(change, async (c) => {
          const target = targets[c.file % targets.length]!;
          const bytes = files.get(target)!;
          const at = c.at % changeable(target, bytes);
          const changed = Buffer.from(bytes);
          changed[at]! ^= c.xor;
          const r = await verifyExport(memorySource(new Map([...files, [target, changed]])), { jwks, requireOriginal: true });
          const codes = r.problems.map((p) => p.code);
          const hit = codes.find((code) => CAUGHT_AS[kind].includes(code));
          if (r.ok || !hit) throw new Error(`byte ${at} of ${target} xor ${c.xor} went unnoticed: ${JSON.stringify(r.problems)}`);
          if (kind === 'page' && !r.problems.some((p) => p.path === target)) throw new Error(`the change of ${target} was reported on another page: ${JSON.stringify(r.problems)}`);
          count(`export ${kind}`, hit);
        }),
        { seed: testEnv.tamperSeed + kind.length, numRuns: runs },
      );
      recordCase('tamper', `${runs} bytes of the export's ${kind} files`, JSON.stringify(caught[`export ${kind}`]), performance.now() - started);
    });
  }

  it('every one of the 255 other values of each JWS\'s last character is caught (no second spelling of a signature)', async () => {
    for (const target of [...files.keys()].filter((p) => p.endsWith('.jws'))) {
      const bytes = files.get(target)!;
      const last = changeable(target, bytes) - 1;
      for (let xor = 1; xor < 256; xor++) {
        const changed = Buffer.from(bytes);
        changed[last]! ^= xor;
        const r = await verifyExport(memorySource(new Map([...files, [target, changed]])), { jwks, requireOriginal: true });
        expect(r.ok, `${target}: its last character ${String.fromCharCode(bytes[last]!)} → ${String.fromCharCode(changed[last]!)} went unnoticed`).to.equal(false);
      }
    }
    recordCase('tamper', 'every other value of the last character of each JWS', 'caught', 0);
  });

  it('the high bit set or cleared in every byte of each JWS is caught (a byte is never read as another)', async () => {
    let tried = 0;
    for (const target of [...files.keys()].filter((p) => p.endsWith('.jws'))) {
      const bytes = files.get(target)!;
      for (let at = 0; at < changeable(target, bytes); at++) {
        const changed = Buffer.from(bytes);
        changed[at]! ^= 0x80;
        const r = await verifyExport(memorySource(new Map([...files, [target, changed]])), { jwks, requireOriginal: true });
        expect(r.ok, `${target}: byte ${at} with its high bit flipped went unnoticed`).to.equal(false);
        tried++;
      }
    }
    recordCase('tamper', `the high bit of every byte of each JWS (${tried} changes)`, 'caught', 0);
  });

  it(`${BLOB_RUNS} single-byte changes to stored page blobs: the page served no longer has its sealed hash; every tenth, the whole export fails on that page`, async () => {
    const started = performance.now();
    const pages = (await gw.api('GET', `/api/dossiers/${dossierId}/pages`, prosecutor)).json as { index: number; sha256: string }[];
    let run = 0;
    await fc.assert(
      fc.asyncProperty(change, async (c) => {
        const page = pages[c.file % pages.length]!;
        const where = (await pageOnDisk(gw, page.sha256))!;
        const file = where.file;
        const original = await fs.readFile(file);
        const at = where.start + (c.at % where.size);
        const changed = Buffer.from(original);
        changed[at]! ^= c.xor;
        await fs.writeFile(file, changed);
        try {
          // The receiver's page hash check: the bytes served against the hash the manifest signed.
          const res = await fetch(`${gw.url}/api/dossiers/${dossierId}/pages/${page.index}`, { headers: { authorization: `Bearer ${prosecutor}` } });
          const served = sha(new Uint8Array(await res.arrayBuffer()));
          if (res.status === 200 && served === page.sha256) throw new Error(`byte ${at} of stored page ${page.index} xor ${c.xor}: served with its sealed hash`);
          count('stored page', 'page hash differs');
          if (run++ % 10 === 0) {
            const r = await verifyExport(memorySource(await exportFiles()), { jwks, requireOriginal: true });
            if (r.ok || !r.problems.some((p) => p.code === 'page_mismatch' && p.page === page.index)) throw new Error(`byte ${at} of stored page ${page.index} xor ${c.xor}: the export verified: ${JSON.stringify(r.problems)}`);
            count('stored page', 'export page_mismatch');
          }
        } finally {
          await fs.writeFile(file, original);
        }
      }),
      { seed: testEnv.tamperSeed + 10, numRuns: BLOB_RUNS },
    );
    const r = await verifyExport(memorySource(await exportFiles()), { jwks, requireOriginal: true });
    expect(r.problems, 'after every change was undone').to.deep.equal([]);
    recordCase('tamper', `${BLOB_RUNS} bytes of stored page blobs`, JSON.stringify(caught['stored page']), performance.now() - started);
  });

  it(`${AUDIT_RUNS} single-byte changes to audit rows: the chain check names the changed seq`, async () => {
    const started = performance.now();
    const db = gw.gateway.db;
    const COLUMNS = ['time', 'actor', 'agency', 'action', 'target_type', 'target_id', 'case_id', 'details', 'prev_hash', 'hash'] as const;
    const rows = await db.query<Record<string, string | null> & { seq: string }>(
      `SELECT seq::text AS seq, ${COLUMNS.map((c) => `${c}::text AS ${c}`).join(', ')} FROM audit_events ORDER BY seq`,
    );
    expect(rows.length).to.be.greaterThan(5);
    let notStored = 0;
    let applied = 0;
    await fc.assert(
      fc.asyncProperty(change, fc.constantFrom(...COLUMNS), fc.integer({ min: 0x21, max: 0x7e }), async (c, column, replacement) => {
        if (applied >= AUDIT_RUNS) return; // enough changes stored and checked; the rest of the runs idle
        const row = rows[c.file % rows.length]!;
        const text = row[column];
        if (text === null || text === undefined || text.length === 0) return;
        const chars = [...text];
        const at = c.at % chars.length;
        if (chars[at] === String.fromCharCode(replacement)) return;
        chars[at] = String.fromCharCode(replacement);
        const cast = column === 'time' ? 'timestamptz' : column === 'case_id' ? 'uuid' : column === 'details' ? 'jsonb' : 'text';
        // A change the column's type refuses (a uuid that is no uuid, JSON that is no JSON) cannot be stored.
        const stored = await db.query(`UPDATE audit_events SET ${column} = $1::${cast} WHERE seq = $2 RETURNING ${column}::text AS v`, [chars.join(''), row.seq]).then(
          (r) => (r[0] as { v: string }).v,
          () => null,
        );
        if (stored === null || stored === text) {
          notStored++;
          if (stored !== null) await db.query(`UPDATE audit_events SET ${column} = $1::${cast} WHERE seq = $2`, [text, row.seq]);
          return;
        }
        try {
          const report = await gw.gateway.audit.verify();
          if (report.ok || report.firstBadSeq !== Number(row.seq)) throw new Error(`${column} of seq ${row.seq} ${JSON.stringify(text)} → ${JSON.stringify(stored)}: ${JSON.stringify(report)}`);
          count('audit row', column);
          applied++;
        } finally {
          await db.query(`UPDATE audit_events SET ${column} = $1::${cast} WHERE seq = $2`, [text, row.seq]);
        }
      }),
      // A change the column's type refuses does not count: draw until AUDIT_RUNS were stored.
      { seed: testEnv.tamperSeed + 20, numRuns: AUDIT_RUNS * 4 },
    );
    expect(applied, 'changes stored and checked').to.equal(AUDIT_RUNS);
    const v = await gw.api('GET', '/api/audit/verify', auditor);
    expect(v.json.ok, 'the chain after every change was undone').to.equal(true);
    recordFigures('tamper', { auditChangesNotStorable: notStored });
    recordCase('tamper', `${AUDIT_RUNS} bytes of audit rows (${notStored} drawn changes not storable by the column type, skipped)`, JSON.stringify(caught['audit row']), performance.now() - started);
  });
});

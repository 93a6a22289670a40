/** Custody scenarios over a real gateway: registered agencies, sealed dossiers uploaded over tus. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { jpegPage, zipOf } from '../../scripts/bench/fixtures/small-dossiers.js';
import { openExport } from '../../scripts/support/export-source.js';
import { eventually } from './eventually.js';
import { tempDir } from './fixtures.js';
import type { TestGateway } from './gateway.js';
import { idFromUrl, tusUpload } from './tus.js';

export const AGENCIES = [
  { id: 'police-1', name: 'City Police Bureau', kind: 'police' },
  { id: 'procuratorate-1', name: 'City People’s Procuratorate', kind: 'procuratorate' },
  { id: 'court-1', name: 'City Intermediate People’s Court', kind: 'court' },
] as const;

/** An AGENCIES_FILE with the three agencies of a journey. */
export async function agenciesFile(dir: string): Promise<string> {
  const file = path.join(dir, 'agencies.json');
  await fs.writeFile(file, JSON.stringify(AGENCIES));
  return file;
}

/** The supervising committee (issue 15): its supervisors read every agency's transfer metadata. */
export const COMMITTEE = { id: 'committee-1', name: 'City Political-Legal Committee', kind: 'committee' } as const;

/** An AGENCIES_FILE with the journey's three agencies and the supervising committee. */
export async function agenciesWithCommittee(dir: string): Promise<string> {
  const file = path.join(dir, 'agencies.json');
  await fs.writeFile(file, JSON.stringify([...AGENCIES, COMMITTEE]));
  return file;
}

/** Uploads a ZIP of `pages` generated JPEG pages onto a case and waits until it is sealed. */
export async function sealedDossier(gw: Pick<TestGateway, 'url' | 'api'>, token: string, caseId: string, seed: number, pages = 3): Promise<{ id: string; merkleRoot: string; pageCount: number }> {
  const dir = await tempDir('custody-upload-');
  try {
    const entries = await Promise.all(Array.from({ length: pages }, async (_, i) => ({ name: `${i + 1}.jpg`, data: await jpegPage(seed * 100 + i) })));
    const zip = await zipOf(path.join(dir, `scan-${seed}.zip`), entries);
    const id = idFromUrl(await tusUpload(gw.url, zip, { token, metadata: { filename: `scan-${seed}.zip`, caseId } }).done);
    return await eventually(async () => {
      const d = (await gw.api('GET', `/api/dossiers/${id}`, token)).json;
      if (d.status === 'rejected') throw new Error(`dossier rejected: ${JSON.stringify(d.error)}`);
      return d.status === 'sealed' ? { id, merkleRoot: d.merkleRoot as string, pageCount: d.pageCount as number } : undefined;
    }, 60_000, `dossier ${id} sealed`);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Sends a dossier and expects 201 pending; returns the transfer id. */
export async function send(gw: Pick<TestGateway, 'api'>, token: string, dossierId: string, toAgency: string, stage: string, note?: string): Promise<string> {
  const res = await gw.api('POST', `/api/dossiers/${dossierId}/transfers`, token, { toAgency, stage, ...(note ? { note } : {}) });
  expect(res.status, JSON.stringify(res.json)).to.equal(201);
  expect(res.json.status).to.equal('pending');
  return res.json.id as string;
}

/** Downloads a dossier's export into `file`. */
export async function downloadExport(gw: TestGateway, token: string, dossierId: string, file: string): Promise<void> {
  const res = await fetch(`${gw.url}/api/dossiers/${dossierId}/export`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).to.equal(200);
  await fs.writeFile(file, Buffer.from(await res.arrayBuffer()));
}

/** The file names of an export (ZIP or directory). */
export async function exportNames(where: string): Promise<string[]> {
  const src = await openExport(where);
  try {
    return (await src.list()).sort();
  } finally {
    await src.close();
  }
}

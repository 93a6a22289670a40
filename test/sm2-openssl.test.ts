/**
 * A third party's check of an SM2 manifest with nothing but OpenSSL 3 and coreutils: the README's
 * step-by-step block, run as written, must say "Signature Verified Successfully" for a manifest the
 * gateway's sealing code signed, and must refuse it after a one-byte change. Mandatory in CI.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { signSeal } from '../dossier/ingest/seal-dossier.js';
import type { PageRecord } from '../dossier/model.js';
import { workerPageSource } from '../dossier/pages/pages-in-worker.js';
import { DEFAULT_LIMITS } from '../dossier/pages/types.js';
import { jpegPage } from '../scripts/bench/fixtures/small-dossiers.js';
import { FileKeyRing } from '../storage/keys/file-keyring.js';
import { tempDir } from './support/fixtures.js';
import { testEnv } from './support/env.js';

const run = promisify(execFile);
const README = path.join(import.meta.dirname, '..', 'README.md');

/** The fenced block of the README that starts with the `# sm2-openssl-steps` line. */
async function readmeSteps(): Promise<string> {
  const text = await fs.readFile(README, 'utf8');
  const block = /```sh\n(# sm2-openssl-steps[^\n]*\n[\s\S]*?)```/.exec(text);
  if (!block) throw new Error('README.md has no sm2-openssl-steps block');
  return block[1]!;
}

function openssl3(): string | null {
  try {
    const v = execFileSync('openssl', ['version'], { encoding: 'utf8' });
    return /^OpenSSL 3\./.test(v) ? v.trim() : null;
  } catch {
    return null;
  }
}

/** Re-encodes the JWS with one byte of one part changed (0 header, 1 payload, 2 signature). */
function oneByteChanged(jws: string, part: 1 | 2, at: number): string {
  const parts = jws.split('.');
  const bytes = Buffer.from(parts[part]!, 'base64url');
  bytes[at]! ^= 0x20;
  parts[part] = bytes.toString('base64url');
  return parts.join('.');
}

describe('SM2 manifest verified with the openssl CLI (README steps)', function () {
  this.timeout(60_000);
  let dir: string;
  let manifestJws: string;
  let jwks: string;
  let ring: FileKeyRing;

  before(async function () {
    const version = openssl3();
    if (!version) {
      if (testEnv.ci) throw new Error('openssl 3 is required in CI (Debian package openssl)');
      console.warn('    [skipped: no OpenSSL 3 CLI on this machine]');
      this.skip();
    }
    dir = await tempDir('sm2-openssl-');
    ring = await FileKeyRing.open(path.join(dir, 'keys'), { create: true, suite: 'sm2-sm3' });
    const pages: PageRecord[] = [1, 2, 3].map((index) => {
      const bytes = Buffer.from(`page ${index} of the scanned dossier`);
      return {
        dossierId: 'd-1', index, sha256: createHash('sha256').update(bytes).digest('hex'), sm3: createHash('sm3').update(bytes).digest('hex'),
        size: bytes.length, mediaType: 'image/jpeg', width: 10, height: 10, sourceName: `${index}.jpg`, signature: '', thumbnailSha256: null,
      };
    });
    const sealed = await signSeal(ring, { dossier: 'd-1', caseId: 'c-1', original: { filename: 'scan.zip', size: 99, sha256: 'ab'.repeat(32) }, pages });
    manifestJws = sealed.manifestJws;
    jwks = JSON.stringify(ring.publicJwks(), null, 2);
  });
  after(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  /** Runs the README block in a fresh directory holding the given manifest.jws and jwks.json. */
  async function steps(jws: string): Promise<{ ok: boolean; out: string }> {
    const work = await fs.mkdtemp(path.join(dir, 'run-'));
    await fs.writeFile(path.join(work, 'manifest.jws'), jws);
    await fs.writeFile(path.join(work, 'jwks.json'), jwks);
    try {
      const { stdout, stderr } = await run('bash', ['-c', await readmeSteps()], { cwd: work });
      return { ok: true, out: stdout + stderr };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      return { ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
    }
  }

  it('verifies the sealed SM2 manifest', async () => {
    expect(JSON.parse(Buffer.from(manifestJws.split('.')[1]!, 'base64url').toString()).suite).to.equal('sm2-sm3');
    const r = await steps(manifestJws);
    expect(r.out).to.contain('Signature Verified Successfully');
    expect(r.ok).to.equal(true);
  });

  it('refuses the manifest after a one-byte change of its payload or its signature', async () => {
    for (const bad of [oneByteChanged(manifestJws, 1, 40), oneByteChanged(manifestJws, 2, 10), oneByteChanged(manifestJws, 2, 50)]) {
      const r = await steps(bad);
      expect(r.ok, r.out).to.equal(false);
      expect(r.out).not.to.contain('Signature Verified Successfully');
    }
  });

  it('verifies a page statement signed in the page reader\'s worker thread, and refuses it changed', async () => {
    const file = path.join(dir, 'page.jpg');
    await fs.writeFile(file, await jpegPage(7));
    const source = workerPageSource({ keep: 0 });
    const key = ring.current().portable!();
    const statements: string[] = [];
    for await (const p of source(file, DEFAULT_LIMITS, { sm3: true, statements: { dossier: 'd-2', case: 'c-2', key } })) statements.push(p.statement!.jws);
    await source.close();
    expect(statements).to.have.length(1);
    expect(JSON.parse(Buffer.from(statements[0]!.split('.')[1]!, 'base64url').toString())).to.include({ dossier: 'd-2', case: 'c-2', index: 1 });
    const r = await steps(statements[0]!);
    expect(r.out).to.contain('Signature Verified Successfully');
    expect((await steps(oneByteChanged(statements[0]!, 1, 20))).ok).to.equal(false);
  });

  it('depends on the distinguishing identifier: another one does not verify', async () => {
    const altered = (await readmeSteps()).replace('distid:1234567812345678', 'distid:1234567812345679');
    const work = await fs.mkdtemp(path.join(dir, 'run-'));
    await fs.writeFile(path.join(work, 'manifest.jws'), manifestJws);
    await fs.writeFile(path.join(work, 'jwks.json'), jwks);
    const outcome = await run('bash', ['-c', altered], { cwd: work }).then(() => 'verified', () => 'refused');
    expect(outcome).to.equal('refused');
  });
});

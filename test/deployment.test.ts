/**
 * The image and the scale-out deployment, checked without a Docker engine: every folder the
 * build compiles reaches the image's build stage, and docker-compose.yml wires what the README
 * says with a configuration the gateway accepts.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parse } from 'yaml';
import { configFromEnv } from '../runtime/config.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const read = (f: string) => fs.readFile(path.join(root, f), 'utf8');

/** The instructions of each stage of a Dockerfile, continuation lines joined. */
function stages(dockerfile: string): string[][] {
  const lines = dockerfile.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const out: string[][] = [];
  for (const l of lines) {
    if (/^FROM /i.test(l)) out.push([]);
    out[out.length - 1]?.push(l);
  }
  return out;
}

describe('deployment files', () => {
  it('the build stage gets every folder the TypeScript build compiles', async () => {
    const build = JSON.parse(await read('tsconfig.build.json')) as { include: string[] };
    const [buildStage, runStage] = stages(await read('Dockerfile'));
    const copies = buildStage!.filter((l) => /^COPY /i.test(l)).map((l) => l.split(/\s+/).slice(1, -1)).flat();
    const ignored = (await read('.dockerignore')).split('\n').map((l) => l.trim().replace(/\/$/, '')).filter((l) => l && !l.startsWith('#'));
    for (const folder of [...build.include, 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) {
      const copied = copies.includes('.') ? !ignored.includes(folder) : copies.some((c) => c.replace(/\/$/, '') === folder);
      expect(copied, `${folder} reaches the build stage`).to.equal(true);
    }
    expect(buildStage!.join('\n')).to.match(/npm ci/);
    for (const part of ['/app/dist', '/app/node_modules', '/app/package.json']) expect(runStage!.join('\n')).to.contain(part);
  });

  it('docker-compose.yml: MinIO on four drives, PostgreSQL, two gateways behind a proxy, two workers', async () => {
    const compose = parse(await read('docker-compose.yml'), { merge: true }) as {
      services: Record<string, { command?: string | string[]; environment?: Record<string, string>; volumes?: string[]; healthcheck?: { test?: unknown; disable?: boolean }; build?: string }>;
      volumes: Record<string, unknown>;
    };
    const s = compose.services;
    const minio = Object.keys(s).filter((n) => /^minio\d$/.test(n));
    expect(minio).to.have.length(4);
    for (const m of minio) expect(String(s[m]!.command)).to.contain('http://minio{1...4}/data');
    expect(s.postgres?.healthcheck?.test).to.not.equal(undefined);

    const gateways = ['gateway1', 'gateway2'];
    const workers = ['worker1', 'worker2'];
    for (const name of [...gateways, ...workers]) {
      const env = s[name]!.environment!;
      // The deployment's configuration is one the gateway accepts, in the scale-out wiring.
      const config = configFromEnv(env);
      expect(config.database.kind, name).to.equal('postgres');
      expect(config.blobs.kind, name).to.equal('s3');
      expect(s[name]!.volumes, name).to.include('dossier-data:/data');
    }
    for (const g of gateways) expect(s[g]!.environment!.WORKERS).to.equal('none');
    for (const w of workers) expect(s[w]!.command).to.deep.equal(['node', 'dist/scripts/dossier.js', 'worker']);
    expect(s.gateway1!.build).to.equal('.');
    expect(String(s.proxy!.command)).to.contain('--to gateway1:8080 --to gateway2:8080');
    expect(Object.keys(compose.volumes)).to.include.members(['dossier-data', 'postgres', ...minio]);
  });
});

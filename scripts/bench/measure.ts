/** Measuring helpers for the benchmark: timed commands, a tus upload, polling a dossier. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import * as tus from 'tus-js-client';

export async function timeCommand(cmd: string, args: string[]): Promise<number> {
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}`))));
  });
  return (performance.now() - started) / 1000;
}

/** Uploads a file with tus-js-client, as a clerk's client would; resolves with the upload URL. */
export function upload(server: string, token: string, file: string, metadata: Record<string, string>, chunkSize = Infinity): Promise<string> {
  return new Promise((resolve, reject) => {
    const up: tus.Upload = new tus.Upload(fs.createReadStream(file), {
      endpoint: `${server}/files/`,
      chunkSize,
      uploadSize: fs.statSync(file).size,
      metadata,
      headers: { Authorization: `Bearer ${token}` },
      retryDelays: [0, 1000, 3000],
      storeFingerprintForResuming: false,
      onError: reject,
      onSuccess: () => resolve(up.url!),
    });
    up.start();
  });
}

export async function api<T>(server: string, token: string, method: string, route: string, body?: unknown): Promise<T> {
  const res = await fetch(`${server}${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Polls every `ms` until `done` holds; returns the seconds waited and the last value. */
export async function pollUntil<T>(get: () => Promise<T>, done: (v: T) => boolean, ms = 50, timeoutS = 1800): Promise<{ seconds: number; value: T }> {
  const started = performance.now();
  for (;;) {
    const value = await get();
    if (done(value)) return { seconds: (performance.now() - started) / 1000, value };
    if (performance.now() - started > timeoutS * 1000) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, ms));
  }
}

export const mb = (bytes: number) => bytes / 1e6;
export const fmt = (n: number, digits = 1) => n.toFixed(digits);

/** GET to a counting sink: time to the first body byte and to the last. */
export async function timeDownload(url: string, token: string | null): Promise<{ firstByteMs: number; seconds: number; bytes: number }> {
  const t0 = performance.now();
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (!res.ok || !res.body) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  let firstByteMs = 0;
  let bytes = 0;
  for await (const chunk of res.body) {
    if (bytes === 0) firstByteMs = performance.now() - t0;
    bytes += chunk.byteLength;
  }
  return { firstByteMs, seconds: (performance.now() - t0) / 1000, bytes };
}

/**
 * The ceiling for a download on this machine: the file's bytes served by a bare node:http server
 * in a process of its own (as the gateway is), piping fs.createReadStream into the response, and
 * fetched with the same client as the export. Fairer than `cp`: the same HTTP, loopback and fetch
 * costs, with nothing of the gateway's own work.
 */
export async function timeFileOverHttp(file: string): Promise<{ firstByteMs: number; seconds: number; bytes: number }> {
  const serve = `
    const http = require('node:http'), fs = require('node:fs'), { pipeline } = require('node:stream');
    const server = http.createServer((req, res) => pipeline(fs.createReadStream(process.argv[1]), res, () => {}));
    server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));`;
  const child = spawn(process.execPath, ['-e', serve, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [line] = (await once(child.stdout, 'data')) as [Buffer];
    return await timeDownload(`http://127.0.0.1:${Number(line.toString().trim())}/`, null);
  } finally {
    child.kill();
  }
}

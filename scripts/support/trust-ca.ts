/**
 * `--cacert`: the CLI's HTTPS connections (fetch, and tus-js-client's node:https requests) trust
 * these PEM certificates beside the system's roots. Verification itself stays on.
 */
import fs from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import { Agent, setGlobalDispatcher } from 'undici';

export function trustCaFile(file: string): void {
  let pem: string;
  try {
    pem = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`--cacert ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`--cacert ${file}: no PEM certificate in it`);
  const ca = [...tls.rootCertificates, pem];
  https.globalAgent = new https.Agent({ keepAlive: true, ca });
  setGlobalDispatcher(new Agent({ connect: { ca } }));
}

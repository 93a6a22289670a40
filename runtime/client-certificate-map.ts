/** TLS_CLIENT_MAP_FILE: which client certificate subject is which agency and roles, checked at start. */
import fs from 'node:fs/promises';
import { clientCertificateMap, type ClientCertificateMap } from '../server/client-certificates.js';
import { ConfigError } from './config.js';

export async function readClientCertificateMap(file: string): Promise<ClientCertificateMap> {
  let raw: unknown;
  try {
    raw = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`invalid configuration:\n  TLS_CLIENT_MAP_FILE: ${file}: ${(err as Error).message}`);
  }
  const parsed = clientCertificateMap.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`invalid configuration:\n  TLS_CLIENT_MAP_FILE: ${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

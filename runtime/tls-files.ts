/** TLS options built from the configured files: every one verifies the peer; none turns that off. */
import fs from 'node:fs';
import tls, { type ConnectionOptions } from 'node:tls';
import type { PostgresTls } from './config.js';

/** PostgreSQL client TLS: the CA from PGSSLROOTCERT beside the system's; verify-ca skips only the host-name check. */
export function postgresTlsOptions(t: PostgresTls | null): ConnectionOptions | false {
  if (!t) return false;
  return {
    rejectUnauthorized: true,
    ...(t.rootCertFile ? { ca: [...tls.rootCertificates, fs.readFileSync(t.rootCertFile, 'utf8')] } : {}),
    ...(t.mode === 'verify-ca' ? { checkServerIdentity: () => undefined } : {}),
  };
}

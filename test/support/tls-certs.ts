/**
 * Certificates made for a test with the openssl CLI: a CA, a server certificate for 127.0.0.1
 * and localhost signed by it, client certificates signed by it, and a foreign CA's client
 * certificate. Nothing is committed; each call makes a fresh set in its own directory.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';

export interface TestPki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** A fresh server certificate (same CA, new serial and key), as a renewal writes it. */
  renewServer(): Promise<{ cert: string; key: string; serial: string }>;
  client(subject: string, options?: { foreign?: boolean }): Promise<{ cert: string; key: string }>;
}

const openssl = (dir: string, ...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();

function makeCa(dir: string, name: string): void {
  openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.pem`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
}

function signed(dir: string, ca: string, name: string, subject: string, ext: string): void {
  openssl(dir, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', subject, '-keyout', `${name}.key`, '-out', `${name}.csr`);
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '2', '-out', `${name}.pem`, '-extfile', `${name}.ext`);
  void ext;
}

export async function makeTestPki(dir: string): Promise<TestPki> {
  await fs.mkdir(dir, { recursive: true });
  makeCa(dir, 'ca');
  let n = 0;
  const server = async () => {
    const name = `server-${++n}`;
    await fs.writeFile(path.join(dir, `${name}.ext`), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
    signed(dir, 'ca', name, '/CN=localhost', `${name}.ext`);
    const serial = openssl(dir, 'x509', '-in', `${name}.pem`, '-noout', '-serial').trim().replace(/^serial=/, '');
    return { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`), serial };
  };
  const first = await server();
  // The live paths the gateway is configured with; a renewal overwrites them.
  const serverCert = path.join(dir, 'server.pem');
  const serverKey = path.join(dir, 'server.key');
  await fs.copyFile(first.cert, serverCert);
  await fs.copyFile(first.key, serverKey);
  let foreignMade = false;
  return {
    dir,
    caCert: path.join(dir, 'ca.pem'),
    serverCert,
    serverKey,
    async renewServer() {
      const next = await server();
      await fs.copyFile(next.cert, serverCert);
      await fs.copyFile(next.key, serverKey);
      return next;
    },
    async client(subject, o = {}) {
      const ca = o.foreign ? 'foreign-ca' : 'ca';
      if (o.foreign && !foreignMade) {
        makeCa(dir, 'foreign-ca');
        foreignMade = true;
      }
      const name = `client-${++n}`;
      await fs.writeFile(path.join(dir, `${name}.ext`), 'extendedKeyUsage=clientAuth\n');
      signed(dir, ca, name, subject, `${name}.ext`);
      return { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
    },
  };
}

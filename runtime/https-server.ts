/**
 * The gateway's HTTPS server (TLS_CERT_FILE, TLS_KEY_FILE): TLS 1.2 and later only; the
 * certificate re-read by `reload` (SIGHUP in `dossier serve`) through setSecureContext, which
 * changes what new handshakes get and leaves connections in flight (a long upload PATCH) alone.
 * With TLS_CLIENT_CA_FILE a client certificate is asked for: a connection offering one that does
 * not chain to that CA is cut at once; one offering none goes on to bearer tokens and sessions.
 * Plain HTTP on this port fails its handshake; TLS_HTTP_REDIRECT_PORT answers plain HTTP with a
 * redirect instead, on a port of its own.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { SecureContextOptions, TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { TlsSettings } from './config.js';

function contextOptions(t: TlsSettings): SecureContextOptions {
  return {
    cert: fs.readFileSync(t.certFile),
    key: fs.readFileSync(t.keyFile),
    ...(t.clientCaFile ? { ca: fs.readFileSync(t.clientCaFile) } : {}),
  };
}

export function createHttpsServer(t: TlsSettings, app: http.RequestListener, log: Logger): { server: https.Server; reload(): void } {
  const server = https.createServer(
    { ...contextOptions(t), minVersion: 'TLSv1.2', requestCert: t.clientCaFile !== null, rejectUnauthorized: false },
    app,
  );
  if (t.clientCaFile) {
    server.on('secureConnection', (socket: TLSSocket) => {
      if (socket.authorized) return;
      const offered = Object.keys(socket.getPeerCertificate() ?? {}).length > 0;
      if (offered) {
        log.warn({ reason: String(socket.authorizationError), remote: socket.remoteAddress }, 'client certificate refused');
        socket.destroy();
      }
    });
  }
  server.on('tlsClientError', (err: Error & { code?: string }) => log.debug({ code: err.code, reason: err.message }, 'TLS handshake failed'));
  return {
    server,
    reload() {
      // Read both files first: a half-written renewal leaves the running certificate in place.
      server.setSecureContext({ ...contextOptions(t), minVersion: 'TLSv1.2' });
    },
  };
}

/** Plain HTTP that only sends every request to the same path over HTTPS. */
export function createRedirectServer(httpsPort: () => number): http.Server {
  return http.createServer((req, res) => {
    const host = (req.headers.host ?? '127.0.0.1').replace(/:\d+$/, '');
    const safeHost = /^[A-Za-z0-9.-]+$|^\[[0-9a-fA-F:.]+\]$/.test(host) ? host : '127.0.0.1';
    res.writeHead(308, { location: `https://${safeHost}:${httpsPort()}${req.url ?? '/'}`, 'content-length': 0 });
    res.end();
  });
}

/**
 * Mutual TLS for agency systems: a client certificate verified at the handshake against
 * TLS_CLIENT_CA_FILE stands for an agency and a role, by its subject, as TLS_CLIENT_MAP_FILE says.
 * A verified certificate whose subject is not in the map gets no principal (401).
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { z } from 'zod';
import { DossierError } from '../dossier/errors.js';
import { ROLES, type Principal } from '../dossier/model.js';

const entry = z.object({
  /** Every attribute named must equal the certificate subject's (CN, O, OU, C…). */
  subject: z.record(z.string(), z.string()).refine((s) => Object.keys(s).length > 0, 'name at least one subject attribute'),
  agency: z.string().min(1),
  roles: z.array(z.enum(ROLES)).min(1),
});
export const clientCertificateMap = z.array(entry);
export type ClientCertificateMap = z.infer<typeof clientCertificateMap>;

export type CertificatePrincipal = (req: IncomingMessage) => Principal | null;

/** The principal of a request's verified client certificate; null when none was offered. */
export function certificatePrincipal(map: ClientCertificateMap): CertificatePrincipal {
  return (req) => {
    const socket = req.socket as Partial<TLSSocket>;
    if (!socket.encrypted || !socket.authorized || !socket.getPeerCertificate) return null;
    const cert = socket.getPeerCertificate();
    const subject = (cert.subject ?? {}) as unknown as Record<string, string | string[]>;
    const found = map.find((m) => Object.entries(m.subject).every(([k, v]) => subject[k] === v));
    const name = Object.entries(subject).map(([k, v]) => `${k}=${String(v)}`).join(', ');
    if (!found) throw new DossierError('unauthenticated', `client certificate ${name} is not mapped to an agency`);
    return { subject: `cert:${subject.CN ?? cert.fingerprint256}`, agency: found.agency, roles: found.roles };
  };
}

import type { JSONWebKeySet } from 'jose';
import type { ClientRegistry, RegisteredClient } from '../../dossier/access/client-assertions.js';
import type { Role } from '../../dossier/model.js';
import type { Database } from './database.js';

interface ClientRow {
  client_id: string;
  agency: string;
  roles: Role[];
  jwks: JSONWebKeySet | string;
  created_at: Date;
  disabled_at: Date | null;
}

const toClient = (r: ClientRow): RegisteredClient & { createdAt: Date } => ({
  clientId: r.client_id,
  agency: r.agency,
  roles: r.roles,
  jwks: typeof r.jwks === 'string' ? (JSON.parse(r.jwks) as JSONWebKeySet) : r.jwks,
  disabledAt: r.disabled_at ? new Date(r.disabled_at) : null,
  createdAt: new Date(r.created_at),
});

/** Machine clients of the gateway's own token endpoint and the assertions they spent. */
export class SqlClientRepository implements ClientRegistry {
  constructor(private readonly db: Database) {}

  /** False when the client id is taken. */
  async create(c: { clientId: string; agency: string; roles: readonly Role[]; jwks: JSONWebKeySet }, now = new Date()): Promise<boolean> {
    const rows = await this.db.query(
      `INSERT INTO oauth_clients (client_id, agency, roles, jwks, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING 1`,
      [c.clientId, c.agency, [...c.roles], JSON.stringify(c.jwks), now],
    );
    return rows.length > 0;
  }

  async get(clientId: string): Promise<RegisteredClient | null> {
    const rows = await this.db.query<ClientRow>(`SELECT * FROM oauth_clients WHERE client_id = $1`, [clientId]);
    return rows[0] ? toClient(rows[0]) : null;
  }

  async list() {
    return (await this.db.query<ClientRow>(`SELECT * FROM oauth_clients ORDER BY agency, client_id`)).map(toClient);
  }

  async setDisabled(clientId: string, disabled: boolean, now = new Date()): Promise<boolean> {
    const rows = await this.db.query(`UPDATE oauth_clients SET disabled_at = CASE WHEN $2 THEN coalesce(disabled_at, $3) END WHERE client_id = $1 RETURNING 1`, [clientId, disabled, now]);
    return rows.length > 0;
  }

  async rememberAssertion(clientId: string, jti: string, expiresAt: Date): Promise<boolean> {
    await this.db.query(`DELETE FROM oauth_assertions WHERE expires_at < now()`);
    const rows = await this.db.query(
      `INSERT INTO oauth_assertions (client_id, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1`,
      [clientId, jti, expiresAt],
    );
    return rows.length > 0;
  }
}

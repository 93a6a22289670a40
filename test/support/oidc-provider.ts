/**
 * A real OpenID provider (oidc-provider, the certified Node.js implementation) on 127.0.0.1,
 * port 0. Its HTTP server listens first, so that its issuer URL can configure a gateway whose
 * own port then names the redirect URI the provider's client registration needs.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

export interface ProviderAccount {
  readonly [claim: string]: unknown;
}

export interface MachineClient {
  readonly clientId: string;
  readonly clientSecret: string;
  /** Claims the provider puts in this client's access tokens (as an IdP's claim mapper does). */
  readonly tokenClaims: Record<string, unknown>;
}

export interface TestProvider {
  readonly issuer: string;
  /** Registers the gateway's client and starts answering; call once the gateway's URL is known. */
  configure(o: { clientId: string; clientSecret: string; redirectUri: string; accounts: Record<string, ProviderAccount>; machineClients?: MachineClient[]; audience?: string }): Promise<void>;
  stop(): Promise<void>;
}

export async function startOidcProvider(): Promise<TestProvider> {
  let handler: http.RequestListener = (_req, res) => res.writeHead(503).end();
  const server = http.createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    async configure(o) {
      const { privateKey } = await generateKeyPair('RS256', { extractable: true });
      const machines = new Map((o.machineClients ?? []).map((c) => [c.clientId, c]));
      const audience = o.audience ?? 'dossier-gateway';
      const provider = new Provider(issuer, {
        clients: [
          { client_id: o.clientId, client_secret: o.clientSecret, redirect_uris: [o.redirectUri], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' },
          ...[...machines.values()].map((c) => ({ client_id: c.clientId, client_secret: c.clientSecret, grant_types: ['client_credentials'], response_types: [], redirect_uris: [], token_endpoint_auth_method: 'client_secret_basic' as const })),
        ],
        jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'test-rs256', alg: 'RS256', use: 'sig' }] },
        cookies: { keys: ['a cookie key for the test provider only'] },
        findAccount: async (_ctx, id) => {
          const account = o.accounts[id];
          return account ? { accountId: id, claims: async () => ({ sub: id, ...account }) } : undefined;
        },
        claims: { openid: ['sub'], dossier: ['agency', 'roles', 'org', 'groups', 'preferred_username'] },
        scopes: ['openid', 'dossier'],
        pkce: { required: () => true },
        features: {
          devInteractions: { enabled: true },
          clientCredentials: { enabled: true },
          resourceIndicators: {
            enabled: true,
            defaultResource: () => undefined,
            useGrantedResource: () => false,
            getResourceServerInfo: () => ({ scope: 'dossier', audience, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } }),
          },
        },
        extraTokenClaims: async (_ctx, token) => {
          const clientId = (token as { clientId?: string }).clientId;
          return token.kind === 'ClientCredentials' && clientId ? machines.get(clientId)?.tokenClaims : undefined;
        },
      });
      // The dev interactions' warnings are expected here.
      provider.on('server_error', (_ctx, err) => process.stderr.write(`oidc-provider: ${err.message}\n`));
      handler = provider.callback();
    },
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import { ConfigError, configFromEnv, parseDuration } from '../runtime/config.js';
import { DEBIAN_TESSDATA } from '../ocr/model-source.js';

describe('configuration', () => {
  it('has the documented defaults', () => {
    const c = configFromEnv({});
    expect(c.http).to.deep.equal({ port: 8080, host: '127.0.0.1', idleTimeoutMs: 120_000, headersTimeoutMs: 60_000 });
    expect(c.database.kind).to.equal('pglite');
    expect(c.uploads.maxBytes).to.equal(50 * 1024 ** 3);
    expect(c.links.maxTtlSeconds).to.equal(7 * 86400);
    expect(c.workers.mode).to.equal('in-process');
    expect(Object.isFrozen(c) && Object.isFrozen(c.http)).to.equal(true);
  });

  it('reads every documented variable', () => {
    const c = configFromEnv({
      PORT: '9000',
      HTTP_IDLE_TIMEOUT: '30s',
      HTTP_HEADERS_TIMEOUT: '10s',
      HOST: '0.0.0.0',
      DATA_DIR: '/tmp/x',
      DATABASE_URL: 'postgres://u@h/db',
      MAX_UPLOAD_BYTES: '2GiB',
      LINK_MAX_TTL: '12h',
      WORKERS: 'none',
      AUTH_JWKS_URL: 'https://idp.example/jwks',
      AUTH_ISSUER: 'https://idp.example',
      AUTH_AUDIENCE: 'gw',
    });
    expect(c.http).to.deep.equal({ port: 9000, host: '0.0.0.0', idleTimeoutMs: 30_000, headersTimeoutMs: 10_000 });
    expect(c.database).to.deep.equal({ kind: 'postgres', url: 'postgres://u@h/db', tls: null });
    expect(c.blobs.dir).to.equal('/tmp/x/blobs');
    expect(c.uploads.maxBytes).to.equal(2 * 1024 ** 3);
    expect(c.links.maxTtlSeconds).to.equal(12 * 3600);
    expect(c.auth).to.deep.equal({ issuer: 'https://idp.example', audience: 'gw', jwksUrl: 'https://idp.example/jwks', claims: { agency: 'agency', roles: 'roles' } });
    expect(c.oidc).to.equal(null);
  });

  it('configures single sign-on: all three of issuer, client id and secret, and the claim names', () => {
    expect(() => configFromEnv({ OIDC_ISSUER: 'https://idp.example' })).to.throw(/OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET/);
    const c = configFromEnv({ OIDC_ISSUER: 'https://idp.example', OIDC_CLIENT_ID: 'gw', OIDC_CLIENT_SECRET: 's', OIDC_CLAIM_ROLES: 'realm_access.roles', AUTH_CLAIM_AGENCY: 'org' });
    expect(c.oidc).to.deep.include({ issuer: 'https://idp.example', clientId: 'gw', scopes: 'openid profile', redirectUrl: null, label: null });
    expect(c.oidc!.claims).to.deep.equal({ user: 'sub', agency: 'agency', roles: 'realm_access.roles' });
    expect(c.auth.claims).to.deep.equal({ agency: 'org', roles: 'roles' });
  });

  it('names each bad variable', () => {
    const attempt = () => configFromEnv({ PORT: 'eighty', MAX_UPLOAD_BYTES: 'lots', DATABASE_URL: 'mysql://x', LINK_MAX_TTL: '7 weeks' });
    expect(attempt).to.throw(ConfigError);
    try {
      attempt();
    } catch (err) {
      for (const name of ['PORT', 'MAX_UPLOAD_BYTES', 'DATABASE_URL', 'LINK_MAX_TTL']) expect((err as Error).message).to.contain(name);
    }
  });

  it('wants issuer and audience with an external JWKS', () => {
    expect(() => configFromEnv({ AUTH_JWKS_URL: 'https://idp.example/jwks' })).to.throw(/AUTH_ISSUER/);
  });

  it('configures OCR: languages from the installed data packages, workers, engine, page timeout', () => {
    const d = configFromEnv({ OCR_ENGINE: 'tesseract.js', OCR_TESSDATA_DIR: os.tmpdir() });
    expect(d.ocr).to.deep.equal({ langs: ['eng'], workers: d.cores, engine: 'tesseract.js', models: { kind: 'npm' }, pagesPerSlot: 200, pageTimeoutMs: 120_000, processEnv: { MALLOC_ARENA_MAX: '2' } });
    if (fs.existsSync(DEBIAN_TESSDATA)) {
      const c = configFromEnv({ OCR_LANGS: 'chi_sim+eng', OCR_WORKERS: '3', OCR_ENGINE: 'tesseract', OCR_PAGE_TIMEOUT: '90s', OCR_PAGES_PER_SLOT: '50' });
      expect(c.ocr).to.deep.equal({ langs: ['chi_sim', 'eng'], workers: 3, engine: 'tesseract', models: { kind: 'folder', dir: DEBIAN_TESSDATA }, pagesPerSlot: 50, pageTimeoutMs: 90_000, processEnv: { MALLOC_ARENA_MAX: '2' } });
    }
    expect(() => configFromEnv({ OCR_TESSDATA_DIR: '/nonexistent/tessdata' })).to.throw(ConfigError, /OCR_TESSDATA_DIR/);
    expect(() => configFromEnv({ OCR_LANGS: 'eng+klingon' })).to.throw(ConfigError, /OCR_LANGS.*klingon/);
    for (const [name, value] of [['OCR_WORKERS', '0'], ['OCR_ENGINE', 'abbyy'], ['OCR_PAGE_TIMEOUT', 'forever'], ['OCR_PAGES_PER_SLOT', '0']]) {
      expect(() => configFromEnv({ [name as string]: value }), name).to.throw(ConfigError, name);
    }
  });

  it('parses durations', () => {
    expect([parseDuration('90s'), parseDuration('15m'), parseDuration('8h'), parseDuration('7d'), parseDuration('soon')]).to.deep.equal([90, 900, 28800, 604800, null]);
  });
});

describe('configuration of the S3 blob store', () => {
  it('reads BLOB_STORE=s3 and the S3_* variables', () => {
    const c = configFromEnv({
      BLOB_STORE: 's3',
      S3_ENDPOINT: 'http://minio:9000',
      S3_REGION: 'eu-central-1',
      S3_BUCKET: 'evidence',
      S3_ACCESS_KEY_ID: 'key',
      S3_SECRET_ACCESS_KEY: 'secret',
      S3_FORCE_PATH_STYLE: 'true',
      S3_OBJECT_LOCK_DAYS: '3650',
      S3_LEGAL_HOLD: 'false',
      S3_REDIRECT_MIN_BYTES: '8MiB',
      S3_REDIRECT_TTL: '90s',
    });
    expect(c.blobs.kind).to.equal('s3');
    expect(c.blobs.s3).to.deep.include({ endpoint: 'http://minio:9000', region: 'eu-central-1', bucket: 'evidence', forcePathStyle: true, maxAttempts: 5 });
    expect(c.blobs.s3?.objectLock).to.deep.equal({ retentionDays: 3650, legalHold: false });
    expect(c.blobs.redirect).to.deep.equal({ minBytes: 8 * 1024 ** 2, ttlSeconds: 90 });
  });

  it('keeps the filesystem store by default, with 5-minute redirects', () => {
    const c = configFromEnv({});
    expect(c.blobs.kind).to.equal('fs');
    expect(c.blobs.s3).to.equal(null);
    expect(c.blobs.redirect.ttlSeconds).to.equal(300);
  });

  it('refuses a missing bucket, half a key pair and presigned URLs over 5 minutes', () => {
    expect(() => configFromEnv({ BLOB_STORE: 's3' })).to.throw(ConfigError, /S3_BUCKET/);
    expect(() => configFromEnv({ BLOB_STORE: 's3', S3_BUCKET: 'evidence', S3_ACCESS_KEY_ID: 'k' })).to.throw(ConfigError, /S3_SECRET_ACCESS_KEY/);
    expect(() => configFromEnv({ S3_REDIRECT_TTL: '10m' })).to.throw(ConfigError, /S3_REDIRECT_TTL/);
  });
});

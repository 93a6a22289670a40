/**
 * The national suite (SIGNATURE_SUITE=sm2-sm3): each page's SM3 beside its SHA-256. Null for pages
 * sealed under the default suite; blobs stay addressed by SHA-256 in every suite.
 */
export default /* sql */ `
ALTER TABLE pages ADD COLUMN sm3 text CHECK (sm3 IS NULL OR sm3 ~ '^[0-9a-f]{64}$');
`;

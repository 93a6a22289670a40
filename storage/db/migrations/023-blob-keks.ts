/**
 * Envelope encryption at rest, version 2: the key-encryption keys, each wrapped by a master key.
 * A blob's data key derives from one of these and the blob's hash, and its header names which
 * (storage/blobs/envelope/layout.ts), so storing a blob writes no row here; a master-key rotation
 * rewrites these few rows, never a blob. One current key a cipher, across every process.
 */
export default /* sql */ `
CREATE TABLE blob_keks (
  id text PRIMARY KEY,
  cipher text NOT NULL,
  master_kid text NOT NULL,
  wrapped bytea NOT NULL,
  current boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX blob_keks_current_idx ON blob_keks (cipher) WHERE current;
`;

/**
 * Envelope encryption at rest: each sealed blob's data key, wrapped by a master key. Kept apart
 * from the blobs so that a master-key rotation rewrites these rows, never the blobs (an S3 object
 * under Object Lock cannot be rewritten at all). The plaintext size is kept for range reads.
 */
export default /* sql */ `
CREATE TABLE blob_keys (
  sha256 text PRIMARY KEY,
  cipher text NOT NULL,
  master_kid text NOT NULL,
  wrapped bytea NOT NULL,
  size bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX blob_keys_master_kid_idx ON blob_keys (master_kid, sha256);
`;

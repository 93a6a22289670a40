/**
 * Blobs kept as byte ranges of other blobs: a page that is a stored entry of its ZIP upload is
 * exactly bytes [start_at, start_at + size) of that upload, which is kept whole anyway, so the
 * page is one row here instead of a second copy on disk (storage/blobs/contained-blob-store.ts).
 * Rows never change; a page may sit in several uploads (one row each).
 */
export default /* sql */ `
CREATE TABLE blob_ranges (
  sha256 text NOT NULL,
  container text NOT NULL,
  start_at bigint NOT NULL CHECK (start_at >= 0),
  size bigint NOT NULL CHECK (size >= 0),
  PRIMARY KEY (sha256, container)
);
`;

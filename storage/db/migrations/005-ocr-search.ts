/**
 * OCR results per page and the full-text index. Index terms are computed in TypeScript
 * (ocr/index-terms.ts: CJK bigrams, lower-cased words, NFKC) and stored as a tsvector literal,
 * so PGlite and PostgreSQL hold the same lexemes whatever their locale; a GIN index serves `@@`.
 */
export default /* sql */ `
CREATE TABLE page_text (
  dossier_id   text NOT NULL,
  index        integer NOT NULL,
  status       text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'done', 'failed')),
  source       text CHECK (source IN ('ocr', 'text-layer')),
  confidence   real,
  text_sha256  text,
  words_sha256 text,
  engine       text,
  reason       text,
  attempts     integer NOT NULL DEFAULT 0,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (dossier_id, index),
  FOREIGN KEY (dossier_id, index) REFERENCES pages (dossier_id, index) ON DELETE CASCADE
);

-- One row per done page: its text (for ranking and snippets) and its terms.
CREATE TABLE page_search (
  dossier_id text NOT NULL,
  index      integer NOT NULL,
  body       text NOT NULL,
  terms      tsvector NOT NULL,
  PRIMARY KEY (dossier_id, index),
  FOREIGN KEY (dossier_id, index) REFERENCES page_text (dossier_id, index) ON DELETE CASCADE
);
-- Terms inline (compressed) rather than out of line: ranking reads every matching page's terms,
-- and a TOAST fetch per page tripled the time of a query that matches half of 5,253 pages.
ALTER TABLE page_search ALTER COLUMN terms SET STORAGE MAIN;
CREATE INDEX page_search_terms_idx ON page_search USING gin (terms);

-- Dossiers sealed before OCR existed: their OCR jobs, as the seal enqueues them (batches of
-- OCR_BATCH = 10 pages, dossier/ingest/derivatives.ts).
INSERT INTO jobs (kind, key, payload, max_attempts)
SELECT 'ocr', d.id || ':' || f, jsonb_build_object('dossierId', d.id, 'from', f, 'to', least(f + 9, d.page_count)), 10
  FROM dossiers d CROSS JOIN LATERAL generate_series(1, d.page_count, 10) AS f
 WHERE d.status = 'sealed' AND d.page_count > 0
ON CONFLICT (kind, key) DO NOTHING;
`;

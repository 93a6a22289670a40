/**
 * The page renderer (dossier/pages/render): OCR records the turn that made a page upright, the
 * languages it was read with, and a note on what it could not draw (an image over the pixel
 * budget). Pages whose scan encoding OCR could not take before (JBIG2, CCITT, JPEG 2000, Flate
 * with a predictor or palette) are queued again, and sealed dossiers with PDF or JPEG 2000 pages,
 * which had no thumbnails, get thumbnail jobs (pages that have one are skipped).
 */
export default /* sql */ `
ALTER TABLE page_text ADD COLUMN rotation smallint NOT NULL DEFAULT 0 CHECK (rotation IN (0, 90, 180, 270));
ALTER TABLE page_text ADD COLUMN languages text;
ALTER TABLE page_text ADD COLUMN note text;

WITH unreadable AS (
  UPDATE page_text SET status = 'queued', attempts = 0, reason = NULL, updated_at = now()
   WHERE status = 'failed' AND (reason LIKE '%OCR reads DCTDecode%' OR reason LIKE '%Flate image OCR cannot read%' OR reason LIKE '%no OCR for pages of type image/jp2%' OR reason LIKE '%page image cannot be read%')
  RETURNING dossier_id, index
)
INSERT INTO jobs (kind, key, payload, max_attempts)
SELECT 'ocr', u.dossier_id || ':' || u.index || ':rendered', jsonb_build_object('dossierId', u.dossier_id, 'from', u.index, 'to', u.index), 10
  FROM unreadable u
ON CONFLICT (kind, key) DO NOTHING;

INSERT INTO jobs (kind, key, payload)
SELECT 'thumbnails', d.id || ':' || f || ':rendered', jsonb_build_object('dossierId', d.id, 'from', f, 'to', least(f + 99, d.page_count))
  FROM dossiers d CROSS JOIN LATERAL generate_series(1, d.page_count, 100) AS f
 WHERE d.status = 'sealed' AND d.page_count > 0
   AND EXISTS (SELECT 1 FROM pages p WHERE p.dossier_id = d.id AND p.media_type IN ('application/pdf', 'image/jp2') AND p.thumbnail_sha256 IS NULL)
ON CONFLICT (kind, key) DO NOTHING;
`;

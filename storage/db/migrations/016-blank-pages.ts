/**
 * A page OCR found blank (the empty back of a duplex sheet, ocr/blank-page.ts) is done without
 * the recogniser: its source says so, so that a reader can tell "no text on the page" from "text
 * not read". PostgreSQL named the inline CHECK of 005 page_text_source_check (PGlite too).
 */
export default /* sql */ `
ALTER TABLE page_text DROP CONSTRAINT page_text_source_check;
ALTER TABLE page_text ADD CONSTRAINT page_text_source_check CHECK (source IN ('ocr', 'text-layer', 'blank'));
`;

/**
 * A dossier's outline (the bookmarks of its PDFs, in dossier page numbers), written with the
 * seal. A table of its own, so that dossier listings never carry thousands of bookmarks.
 */
export default /* sql */ `
CREATE TABLE dossier_outlines (
  dossier_id  text PRIMARY KEY REFERENCES dossiers (id) ON DELETE CASCADE,
  entries     jsonb NOT NULL
);
`;

/** Where finished uploads wait for ingest (the tus staging directory in the embedded wiring). */
export interface StagingArea {
  /** Local path of the finished upload's bytes, or null when they are gone (already stored). */
  path(dossierId: string): Promise<string | null>;
  /** Makes the staged bytes durable on disk (they arrived without fsync). */
  flush(dossierId: string): Promise<void>;
  /** Moves rejected bytes aside for investigation; the dossier's upload record goes too. */
  quarantine(dossierId: string): Promise<void>;
  /** Forgets the upload record once its bytes have moved into the blob store. */
  forget(dossierId: string): Promise<void>;
}

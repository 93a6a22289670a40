/** What operators watch, read from the shared database so that every process reports the same. */
export interface OperationsSnapshot {
  readonly dossiersByStatus: Readonly<Record<string, number>>;
  readonly sealedPages: number;
  /** Pages of sealed dossiers whose text is not read yet. */
  readonly ocrBacklogPages: number;
  /** Pages whose text was finished in the last minute, by any process. */
  readonly ocrPagesLastMinute: number;
  readonly auditChainLength: number;
  readonly jobs: readonly { readonly kind: string; readonly status: string; readonly n: number }[];
  readonly liveWorkers: readonly { readonly id: string; readonly kinds: readonly string[] }[];
}

export interface OperationsReader {
  snapshot(): Promise<OperationsSnapshot>;
}

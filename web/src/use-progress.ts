/**
 * A dossier's live state from GET /api/dossiers/:id/progress (Server-Sent Events): each `progress`
 * event is the dossier's JSON; `done` ends it (sealed and searchable, or rejected). EventSource
 * sends the session cookie (same origin) and reconnects by itself if the stream breaks.
 */
import { useEffect, useState } from 'preact/hooks';
import type { Dossier } from './api.js';

export const settled = (d: Dossier) =>
  d.status === 'rejected' || (d.status === 'sealed' && !!d.progress.ocr && d.progress.ocr.done + d.progress.ocr.failed >= d.progress.ocr.total);

export function useLiveDossier(initial: Dossier, onSettled?: (d: Dossier) => void): Dossier {
  const [live, setLive] = useState<Dossier>(initial);
  useEffect(() => setLive(initial), [initial]);
  useEffect(() => {
    if (settled(initial)) return;
    const source = new EventSource(`/api/dossiers/${encodeURIComponent(initial.id)}/progress`);
    const take = (e: MessageEvent<string>) => setLive(JSON.parse(e.data) as Dossier);
    source.addEventListener('progress', take);
    source.addEventListener('done', (e) => {
      source.close();
      const d = JSON.parse((e as MessageEvent<string>).data) as Dossier;
      setLive(d);
      onSettled?.(d);
    });
    source.addEventListener('gone', () => source.close());
    return () => source.close();
  }, [initial.id, settled(initial)]);
  return live;
}

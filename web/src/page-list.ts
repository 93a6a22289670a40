/**
 * A sealed dossier's page records, fetched in pieces as they are needed rather than all before
 * anything shows: the grid needs none (a tile is its page number, its thumbnail is asked by
 * number), the page view needs its own page's, and the contents every page's source name, which
 * it reads in the background one piece at a time, so the browser's six connections stay free
 * for the thumbnails in view.
 */
import { useEffect, useState } from 'preact/hooks';
import { get, type Page } from './api.js';

/** Records a request asks for: small enough to arrive quickly, few enough requests for 5,253 pages. */
export const PIECE = 500;

export class PageList {
  private readonly pages: (Page | undefined)[];
  private readonly asked = new Set<number>();
  private readonly listeners = new Set<() => void>();
  private arrived = 0;
  private complete: Page[] | null = null;

  constructor(readonly dossierId: string, readonly count: number) {
    this.pages = new Array<Page | undefined>(count);
  }

  /** Page n (from 1), if its piece has arrived. */
  at(n: number): Page | undefined {
    return this.pages[n - 1];
  }

  /** Every record, once all have arrived (the same array from then on); null before. */
  all(): readonly Page[] | null {
    return this.complete;
  }

  /** Records here so far. */
  loaded(): number {
    return this.arrived;
  }

  /** Fetches the piece holding page n, unless it is here or on its way. */
  async ensure(n: number): Promise<void> {
    const piece = Math.floor((n - 1) / PIECE);
    if (n < 1 || n > this.count || this.asked.has(piece)) return;
    this.asked.add(piece);
    try {
      const rows = await get<Page[]>(`/api/dossiers/${this.dossierId}/pages?offset=${piece * PIECE}&limit=${PIECE}`);
      for (const p of rows) {
        if (!this.pages[p.index - 1]) this.arrived++;
        this.pages[p.index - 1] = p;
      }
      if (this.arrived >= this.count) this.complete = this.pages as Page[];
      for (const fn of this.listeners) fn();
    } catch (err) {
      this.asked.delete(piece); // asked again by the next caller
      throw err;
    }
  }

  /** Every piece, one request at a time (the contents' background reading). */
  async ensureAll(): Promise<void> {
    for (let n = 1; n <= this.count; n += PIECE) await this.ensure(n);
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => void this.listeners.delete(fn);
  }
}

/** The dossier's page list (null until its count is known); the caller re-renders as pieces arrive. */
export function usePageList(dossierId: string, count: number | null): PageList | null {
  const [list, setList] = useState<PageList | null>(null);
  const [, bump] = useState(0);
  useEffect(() => {
    if (count === null) return setList(null);
    const made = new PageList(dossierId, count);
    setList(made);
    return made.subscribe(() => bump((v) => v + 1));
  }, [dossierId, count]);
  return list;
}

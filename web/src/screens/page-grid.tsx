/**
 * The dossier's pages as a virtualised grid: only the rows in view (and a few around) exist in
 * the DOM, so thousands of pages stay smooth. A tile needs nothing but its page number: the grid
 * shows as soon as the page count is known, without waiting for the page records (pageAt gives
 * those that have arrived). A tile asks for its thumbnail once it has stayed a moment, so the
 * tiles a fast scroll only passes over cost no request and no decoding.
 */
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Page } from '../api.js';
import { formatNumber, t } from '../i18n/index.js';

/** The narrowest tile: a row holds as many as fit, widened to fill it. */
const TILE_W = 150;
const TILE_H = 210;
const OVERSCAN_ROWS = 2;
/** How long a tile stays before its thumbnail is asked for. */
const DWELL_MS = 100;

export interface PageGridProps {
  dossierId: string;
  count: number;
  pageAt: (n: number) => Page | undefined;
  onOpen: (n: number) => void;
  /** Called once, when the thumbnails first asked for have all arrived (or failed). */
  onFirstScreen?: () => void;
}

export function PageGrid({ dossierId, count, pageAt, onOpen, onFirstScreen }: PageGridProps) {
  const box = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, height: 600, width: 900 });
  // Thumbnails on their way: the first time none is, the first screen has arrived.
  const pending = useRef({ n: 0, reported: false });
  const firstScreen = useRef(onFirstScreen);
  firstScreen.current = onFirstScreen;
  const track = useCallback((delta: 1 | -1) => {
    const p = pending.current;
    p.n += delta;
    if (p.n === 0 && !p.reported) {
      p.reported = true;
      firstScreen.current?.();
    }
  }, []);

  useEffect(() => {
    const el = box.current!;
    const measure = () => setView({ top: el.scrollTop, height: el.clientHeight, width: el.clientWidth });
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    let frame = 0;
    const onScroll = () => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(measure);
    };
    el.addEventListener('scroll', onScroll, { passive: true });
    return () => (ro.disconnect(), el.removeEventListener('scroll', onScroll), cancelAnimationFrame(frame));
  }, []);

  const columns = Math.max(1, Math.floor(view.width / TILE_W));
  const tileW = Math.max(TILE_W, Math.floor(view.width / columns)); // the row filled, no gap at its end
  const rows = Math.ceil(count / columns);
  const firstRow = Math.max(0, Math.floor(view.top / TILE_H) - OVERSCAN_ROWS);
  const lastRow = Math.min(rows - 1, Math.ceil((view.top + view.height) / TILE_H) + OVERSCAN_ROWS);
  const tiles = [];
  for (let row = firstRow; row <= lastRow; row++) {
    for (let col = 0; col < columns; col++) {
      const n = row * columns + col + 1;
      if (n > count) break;
      tiles.push(
        <li key={n} class="tile" style={{ top: `${row * TILE_H}px`, left: `${col * tileW}px`, width: `${tileW}px`, height: `${TILE_H}px` }}>
          <Tile dossierId={dossierId} n={n} pageAt={pageAt} track={track} onOpen={onOpen} />
        </li>,
      );
    }
  }
  return (
    <div ref={box} class="grid-box" style={{ height: `min(70vh, ${rows * TILE_H + 2}px)` }} tabIndex={0} role="region" aria-label={t('grid')} data-pages={count}>
      <ul class="grid" style={{ height: `${rows * TILE_H}px` }}>{tiles}</ul>
    </div>
  );
}

/** Waits before asking again for a thumbnail not made yet (thumbnails are made just after the seal). */
const RETRY_MS = [1000, 2000, 4000, 8000, 15000, 30000];

/**
 * A page's tile: its button with the thumbnail (every page type has one: PDF and JPEG 2000 pages
 * are drawn by the server), or a placeholder while it is being made: a dossier opened the moment
 * it is sealed may be ahead of its thumbnails, so a missing one is asked for again a few times
 * before the placeholder stays.
 */
function Tile(props: { dossierId: string; n: number; pageAt: (n: number) => Page | undefined; track: (delta: 1 | -1) => void; onOpen: (n: number) => void }) {
  const { dossierId, n, pageAt, track, onOpen } = props;
  const [wanted, setWanted] = useState(false);
  const [attempt, setAttempt] = useState(0);
  const [waiting, setWaiting] = useState(false);
  useEffect(() => {
    const timer = setTimeout(() => setWanted(true), DWELL_MS);
    return () => clearTimeout(timer);
  }, []);
  useEffect(() => {
    if (!waiting) return;
    const timer = setTimeout(() => (setWaiting(false), setAttempt((a) => a + 1)), RETRY_MS[attempt]);
    return () => clearTimeout(timer);
  }, [waiting, attempt]);
  // Counted as on its way from the image's making until it loads, fails, or its tile goes (a
  // layout effect: it runs before the image's load event can).
  const loading = useRef(false);
  const settle = () => {
    if (loading.current) (loading.current = false), track(-1);
  };
  const asking = wanted && !waiting && attempt < RETRY_MS.length;
  useLayoutEffect(() => {
    if (!asking) return;
    loading.current = true;
    track(1);
    return settle;
  }, [asking, attempt]);

  const src = `/api/dossiers/${dossierId}/pages/${n}/thumbnail${attempt ? `?try=${attempt}` : ''}`;
  const note = !wanted || asking ? null : attempt >= RETRY_MS.length ? (pageAt(n)?.mediaType === 'application/pdf' ? 'PDF' : t('noThumbnail')) : t('loading');
  return (
    <>
      <button type="button" onClick={() => onOpen(n)} aria-label={t('pageN', { n })} data-page={n}>
        {asking ? <img key={attempt} class="thumb" src={src} alt="" decoding="async" onLoad={settle} onError={() => (settle(), setWaiting(true))} /> : <span class="thumb placeholder" />}
        {/* Written as in its label ("Page 1,076"): the visible text is part of the name. */}
        <span class="tile-n" aria-hidden="true">{formatNumber(n)}</span>
      </button>
      {/* Outside the button, so that its visible text stays the page number its name holds. */}
      {note && <span class="tile-note" aria-hidden="true">{note}</span>}
    </>
  );
}

/**
 * The dossier's pages as a virtualised grid: only the rows in view (and a few around) exist in
 * the DOM, each thumbnail is requested when its tile is made, so thousands of pages stay smooth.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Page } from '../api.js';
import { t } from '../i18n/index.js';

const TILE_W = 150;
const TILE_H = 210;
const OVERSCAN_ROWS = 2;

export function PageGrid({ dossierId, pages, onOpen }: { dossierId: string; pages: Page[]; onOpen: (n: number) => void }) {
  const box = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, height: 600, width: 900 });

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
  const rows = Math.ceil(pages.length / columns);
  const firstRow = Math.max(0, Math.floor(view.top / TILE_H) - OVERSCAN_ROWS);
  const lastRow = Math.min(rows - 1, Math.ceil((view.top + view.height) / TILE_H) + OVERSCAN_ROWS);
  const tiles = [];
  for (let row = firstRow; row <= lastRow; row++) {
    for (let col = 0; col < columns; col++) {
      const page = pages[row * columns + col];
      if (!page) break;
      tiles.push(
        <li key={page.index} class="tile" style={{ top: `${row * TILE_H}px`, left: `${col * TILE_W}px`, width: `${TILE_W}px`, height: `${TILE_H}px` }}>
          <button type="button" onClick={() => onOpen(page.index)} aria-label={t('pageN', { n: page.index })} data-page={page.index}>
            <Thumbnail dossierId={dossierId} page={page} />
            <span class="tile-n" aria-hidden="true">{page.index}</span>
          </button>
        </li>,
      );
    }
  }
  return (
    <div ref={box} class="grid-box" style={{ height: `min(70vh, ${rows * TILE_H + 2}px)` }} tabIndex={0} role="region" aria-label={t('grid')} data-pages={pages.length}>
      <ul class="grid" style={{ height: `${rows * TILE_H}px` }}>{tiles}</ul>
    </div>
  );
}

/** Waits before asking again for a thumbnail not made yet (thumbnails are made just after the seal). */
const RETRY_MS = [1000, 2000, 4000, 8000, 15000, 30000];

/**
 * A thumbnail (every page type has one: PDF and JPEG 2000 pages are drawn by the server), or a
 * placeholder while it is being made: a dossier opened the moment it is sealed may be ahead of
 * its thumbnails, so a missing one is asked for again a few times before the placeholder stays.
 */
function Thumbnail({ dossierId, page }: { dossierId: string; page: Page }) {
  const [attempt, setAttempt] = useState(0);
  const [waiting, setWaiting] = useState(false);
  useEffect(() => {
    if (!waiting) return;
    const timer = setTimeout(() => (setWaiting(false), setAttempt((n) => n + 1)), RETRY_MS[attempt]);
    return () => clearTimeout(timer);
  }, [waiting, attempt]);
  if (waiting || attempt >= RETRY_MS.length) return <span class="thumb placeholder" aria-hidden="true">{attempt >= RETRY_MS.length ? (page.mediaType === 'application/pdf' ? 'PDF' : t('noThumbnail')) : t('loading')}</span>;
  const src = `/api/dossiers/${dossierId}/pages/${page.index}/thumbnail${attempt ? `?try=${attempt}` : ''}`;
  return <img key={attempt} class="thumb" src={src} alt="" decoding="async" onError={() => setWaiting(true)} />;
}

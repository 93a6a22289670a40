/** One page: zoom, rotation, keyboard paging, jump to page, its OCR text beside it with the search words marked. */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Page } from '../api.js';
import { Highlighted } from '../highlight.js';
import { t, useLocale } from '../i18n/index.js';
import { pageMatches, type ManifestPage } from '../verify.js';

/** Pixels wide asked of the server: sharp at 100 % on a high-density screen, zoomable. */
const VIEW_WIDTH = 1600;

export function PageView(props: { dossierId: string; page: Page; total: number; q: string; signed: ManifestPage | null; onGo: (n: number) => void; onClose: () => void }) {
  useLocale();
  const { dossierId, page, total, q, signed, onGo, onClose } = props;
  const [zoom, setZoom] = useState(1);
  const [rotation, setRotation] = useState(0);
  const [text, setText] = useState<string | null>(null);
  const [jump, setJump] = useState('');
  const [match, setMatch] = useState<boolean | null>(null);
  const root = useRef<HTMLDivElement>(null);
  const base = `/api/dossiers/${dossierId}/pages/${page.index}`;

  useEffect(() => {
    setText(null);
    let gone = false;
    fetch(`${base}/text`, { credentials: 'same-origin' }).then(async (r) => !gone && setText(r.ok ? await r.text() : ''), () => !gone && setText(''));
    return () => void (gone = true);
  }, [base]);
  useEffect(() => {
    setMatch(null);
    let gone = false;
    if (signed) void pageMatches(dossierId, signed).then((ok) => !gone && setMatch(ok));
    return () => void (gone = true);
  }, [base, signed]);
  useEffect(() => root.current?.focus(), []);

  const go = (n: number) => onGo(Math.min(total, Math.max(1, n)));
  const onKey = (e: KeyboardEvent) => {
    if ((e.target as HTMLElement).tagName === 'INPUT') return;
    if (e.key === 'ArrowRight' || e.key === 'PageDown') go(page.index + 1);
    else if (e.key === 'ArrowLeft' || e.key === 'PageUp') go(page.index - 1);
    else if (e.key === '+' || e.key === '=') setZoom((z) => Math.min(4, z * 1.25));
    else if (e.key === '-') setZoom((z) => Math.max(0.25, z / 1.25));
    else if (e.key === 'r' || e.key === 'R') setRotation((r) => (r + 90) % 360);
    else if (e.key === 'Escape') onClose();
    else return;
    e.preventDefault();
  };
  // The server's picture of the page: any page type (PDF, TIFF and JPEG 2000 pages drawn by its
  // page renderer), turned upright when OCR found it scanned turned; the download has the signed bytes.
  const src = `${base}/image?width=${VIEW_WIDTH}`;

  return (
    <div ref={root} class="page-view" tabIndex={-1} onKeyDown={onKey} aria-label={t('pageOf', { n: page.index, total })} role="region" data-page={page.index}>
      <div class="toolbar">
        <button type="button" onClick={onClose}>{t('closePage')}</button>
        <button type="button" onClick={() => go(page.index - 1)} disabled={page.index <= 1}>{t('previous')}</button>
        <span aria-live="polite">{t('pageOf', { n: page.index, total })}</span>
        <button type="button" onClick={() => go(page.index + 1)} disabled={page.index >= total}>{t('next')}</button>
        <button type="button" onClick={() => setZoom((z) => Math.max(0.25, z / 1.25))}>{t('zoomOut')}</button>
        <button type="button" onClick={() => setZoom((z) => Math.min(4, z * 1.25))}>{t('zoomIn')}</button>
        <button type="button" onClick={() => setRotation((r) => (r + 90) % 360)}>{t('rotate')}</button>
        <form onSubmit={(e) => (e.preventDefault(), go(Number(jump) || page.index))}>
          <label>{t('jumpTo')} <input type="number" min={1} max={total} value={jump} onInput={(e) => setJump((e.target as HTMLInputElement).value)} /></label>
          <button type="submit">{t('go')}</button>
        </form>
        <a class="button" href={base} download>{t('downloadPage')}</a>
        {match !== null && <span class={match ? 'ok' : 'problem'} data-page-match={String(match)}>{match ? t('verifyPageOk', { n: page.index }) : t('verifyBadPage', { n: page.index })}</span>}
      </div>
      <p class="hint">{t('keyboardHelp')}</p>
      <div class="page-body">
        <div class="page-image">
          <img src={src} alt={t('pageN', { n: page.index })} style={{ transform: `rotate(${rotation}deg) scale(${zoom})` }} />
        </div>
        <section class="page-text" aria-labelledby="text-h">
          <h2 id="text-h">{t('ocrText')}</h2>
          {text === null ? <p>{t('loading')}</p> : text ? <pre>{<Highlighted text={text} q={q} />}</pre> : <p>{t('noText')}</p>}
        </section>
      </div>
    </div>
  );
}

/** Small shared pieces: a dossier's state badge and its live progress. */
import type { Dossier } from './api.js';
import { t, formatNumber } from './i18n/index.js';

export function StatusBadge({ status }: { status: Dossier['status'] }) {
  return <span class={`badge badge-${status}`}>{t(`status_${status}`)}</span>;
}

export function DossierProgress({ d }: { d: Dossier }) {
  if (d.status === 'receiving' && d.bytes) return <progress max={d.bytes} value={d.received ?? 0} aria-label={t('progressReceived', { done: d.received ?? 0, total: d.bytes })} />;
  if (d.status === 'processing' && d.pageCount) {
    return (
      <span>
        <progress max={d.pageCount} value={d.progress.pages} aria-label={t('progressPages', { done: d.progress.pages, total: d.pageCount })} /> {t('progressPages', { done: d.progress.pages, total: d.pageCount })}
      </span>
    );
  }
  const ocr = d.progress.ocr;
  if (d.status === 'sealed' && ocr) {
    const label = t('progressOcr', { done: ocr.done + ocr.failed, total: ocr.total });
    return ocr.done + ocr.failed < ocr.total ? (
      <span>
        <progress max={ocr.total} value={ocr.done + ocr.failed} aria-label={label} /> {label}
      </span>
    ) : (
      <span>{label}</span>
    );
  }
  if (d.error) return <span class="problem">{d.error.code}</span>;
  return d.pageCount ? <span>{t('pagesCount', { count: formatNumber(d.pageCount) })}</span> : null;
}

export const ErrorNote = ({ error }: { error: Error | null }) => (error ? <p class="problem" role="alert">{t('error', { message: error.message })}</p> : null);

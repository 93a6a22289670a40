/** A sealed dossier: the page grid or one page, downloads, verification and signed links. */
import { useEffect, useState } from 'preact/hooks';
import type { Dossier, Session } from '../api.js';
import { formatDate, t, useLocale } from '../i18n/index.js';
import { href, navigate } from '../router.js';
import { ErrorNote, StatusBadge } from '../status.js';
import { usePageList } from '../page-list.js';
import { useData } from '../use-data.js';
import { loadManifest, type ManifestPage } from '../verify.js';
import { Contents } from './contents.js';
import { LinksPanel } from './links-panel.js';
import { PageGrid } from './page-grid.js';
import { PageView } from './page-view.js';
import { VerifyPanel } from './verify-panel.js';
import { shown } from '../shown-text.js';

const CONTENTS_AFTER_MS = 3000;

export function Viewer({ id, session, page, q }: { id: string; session: Session; page: number | null; q: string }) {
  useLocale();
  const { data: d, error } = useData<Dossier>(`/api/dossiers/${id}`);
  // The grid shows from the page count alone; records come in pieces (page-list.ts).
  const list = usePageList(id, d?.status === 'sealed' && d.pageCount ? d.pageCount : null);
  const [signed, setSigned] = useState<ManifestPage[] | null>(null);
  const [listError, setListError] = useState<Error | null>(null);

  useEffect(() => {
    if (!list || !page) return;
    list.ensure(page).catch(setListError);
    void list.ensure(page + 1).catch(() => undefined); // the next page, for keyboard paging
  }, [list, page]);
  // The contents read every record: after the grid's first screen has arrived, so the first
  // screen does not share the server with it (or after a while, whatever the grid does).
  const [readContents, setReadContents] = useState(false);
  useEffect(() => {
    setReadContents(false);
    const timer = setTimeout(() => setReadContents(true), CONTENTS_AFTER_MS);
    return () => clearTimeout(timer);
  }, [id]);
  // The signed manifest is needed once a page is shown (its check); not for the grid's first paint.
  useEffect(() => {
    if (!page || signed) return;
    void loadManifest(id).then((m) => m.ok && setSigned(m.manifest.pages), () => undefined);
  }, [id, page !== null]);

  if (!d) return error ? <ErrorNote error={error} /> : <p>{t('loading')}</p>;
  const open = (n: number | null) => navigate(`/dossiers/${id}`, { page: n ?? undefined, q: q || undefined });
  const current = page && list ? list.at(page) : undefined;
  const base = `/api/dossiers/${id}`;

  return (
    <section class="viewer">
      <p><a href={href(`/cases/${d.caseId}`)}>← {t('backToCases')}</a></p>
      <h1>{t('viewer', { name: shown(d.title || d.filename) })} <StatusBadge status={d.status} /></h1>
      <dl class="facts">
        <dt>{t('pages')}</dt><dd>{t('pagesCount', { count: d.pageCount ?? 0 })}</dd>
        <dt>{t('landingSealed')}</dt><dd>{formatDate(d.sealedAt)}</dd>
        <dt>{t('merkleRoot')}</dt><dd><code>{d.merkleRoot}</code></dd>
      </dl>
      <div class="viewer-body">
        <div class="viewer-main">
          <ErrorNote error={listError} />
          {!list || (page && !current) ? <p>{t('loading')}</p> : current ? (
            <PageView dossierId={id} page={current} total={list.count} q={q} signed={signed?.[current.index - 1] ?? null} onGo={open} onClose={() => open(null)} />
          ) : (
            <PageGrid dossierId={id} count={list.count} pageAt={(n) => list.at(n)} onOpen={open} onFirstScreen={() => setReadContents(true)} />
          )}
        </div>
        <aside class="viewer-side">
          {list && <Contents list={list} read={readContents || page !== null} outline={d.outline ?? []} pageHref={(n) => href(`/dossiers/${id}`, { page: n, q: q || undefined })} />}
          <section class="panel" aria-labelledby="dl-h">
            <h2 id="dl-h">{t('downloads')}</h2>
            <ul class="plain">
              <li><a href={`${base}/export`} download>{t('downloadZip')}</a></li>
              <li><a href={`${base}/export.pdf`} download>{t('downloadPdf')}</a></li>
            </ul>
          </section>
          <VerifyPanel dossier={d} />
          {session.roles.some((r) => r === 'clerk' || r === 'prosecutor' || r === 'judge') && <LinksPanel dossierId={id} />}
        </aside>
      </div>
    </section>
  );
}

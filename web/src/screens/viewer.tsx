/** A sealed dossier: the page grid or one page, downloads, verification and signed links. */
import { useEffect, useState } from 'preact/hooks';
import { get, type Dossier, type Page, type Session } from '../api.js';
import { formatDate, t, useLocale } from '../i18n/index.js';
import { href, navigate } from '../router.js';
import { ErrorNote, StatusBadge } from '../status.js';
import { useData } from '../use-data.js';
import { loadManifest, type ManifestPage } from '../verify.js';
import { Contents } from './contents.js';
import { LinksPanel } from './links-panel.js';
import { PageGrid } from './page-grid.js';
import { PageView } from './page-view.js';
import { VerifyPanel } from './verify-panel.js';

const BATCH = 1000; // the API's largest page listing

async function allPages(id: string, count: number): Promise<Page[]> {
  const batches = await Promise.all(Array.from({ length: Math.ceil(count / BATCH) }, (_, i) => get<Page[]>(`/api/dossiers/${id}/pages?offset=${i * BATCH}&limit=${BATCH}`)));
  return batches.flat();
}

export function Viewer({ id, session, page, q }: { id: string; session: Session; page: number | null; q: string }) {
  useLocale();
  const { data: d, error } = useData<Dossier>(`/api/dossiers/${id}`);
  const [pages, setPages] = useState<Page[] | null>(null);
  const [signed, setSigned] = useState<ManifestPage[] | null>(null);

  useEffect(() => {
    if (!d || d.status !== 'sealed' || !d.pageCount) return;
    void allPages(id, d.pageCount).then(setPages);
  }, [d?.id, d?.status]);
  // The signed manifest is needed once a page is shown (its check); not for the grid's first paint.
  useEffect(() => {
    if (!page || signed) return;
    void loadManifest(id).then((m) => m.ok && setSigned(m.manifest.pages), () => undefined);
  }, [id, page !== null]);

  if (!d) return error ? <ErrorNote error={error} /> : <p>{t('loading')}</p>;
  const open = (n: number | null) => navigate(`/dossiers/${id}`, { page: n ?? undefined, q: q || undefined });
  const current = page && pages ? pages[page - 1] : undefined;
  const base = `/api/dossiers/${id}`;

  return (
    <section class="viewer">
      <p><a href={href(`/cases/${d.caseId}`)}>← {t('backToCases')}</a></p>
      <h1>{t('viewer', { name: d.title || d.filename })} <StatusBadge status={d.status} /></h1>
      <dl class="facts">
        <dt>{t('pages')}</dt><dd>{t('pagesCount', { count: d.pageCount ?? 0 })}</dd>
        <dt>{t('landingSealed')}</dt><dd>{formatDate(d.sealedAt)}</dd>
        <dt>{t('merkleRoot')}</dt><dd><code>{d.merkleRoot}</code></dd>
      </dl>
      <div class="viewer-body">
        <div class="viewer-main">
          {!pages ? <p>{t('loading')}</p> : current ? (
            <PageView dossierId={id} page={current} total={pages.length} q={q} signed={signed?.[current.index - 1] ?? null} onGo={open} onClose={() => open(null)} />
          ) : (
            <PageGrid dossierId={id} pages={pages} onOpen={open} />
          )}
        </div>
        <aside class="viewer-side">
          {pages && <Contents pages={pages} outline={d.outline ?? []} pageHref={(n) => href(`/dossiers/${id}`, { page: n, q: q || undefined })} />}
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

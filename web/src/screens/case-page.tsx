/** One case: its dossiers with live state and progress (Server-Sent Events), upload, and each dossier's custody timeline. */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Case, Dossier, Session } from '../api.js';
import { formatDate, locale, t, useLocale } from '../i18n/index.js';
import { href } from '../router.js';
import { DossierProgress, ErrorNote, StatusBadge } from '../status.js';
import { useData } from '../use-data.js';
import { useLiveDossier } from '../use-progress.js';
import { AuditEvents } from './audit-events.js';
import { CustodyTimeline } from './custody-timeline.js';

export function CasePage({ id, session }: { id: string; session: Session }) {
  const lang = useLocale();
  // Loaded once and after each finished upload; each unsettled dossier then follows its own event stream.
  const { data: c, error, reload } = useData<Case>(`/api/cases/${id}`);
  const [folderError, setFolderError] = useState<Error | null>(null);
  const uploadTarget = useRef<HTMLDivElement>(null);
  const mayUpload = session.roles.includes('clerk') && c?.agency === session.agency;
  // The roles that may read transfers (dossier/access/policy.ts); the server refuses the others.
  const mayReadTransfers = session.roles.some((r) => r === 'clerk' || r === 'prosecutor' || r === 'judge' || r === 'admin');

  useEffect(() => {
    if (!mayUpload || !uploadTarget.current) return;
    let handle: { close(): void } | null = null;
    let gone = false;
    void import('./uploader.js').then(({ mountUploader }) => {
      if (gone || !uploadTarget.current) return;
      handle = mountUploader(uploadTarget.current, {
        caseId: id, locale: locale(), note: t('uploadHint'), onUploaded: reload,
        onFolderError: (folder, err) => setFolderError(new Error(t('folderFailed', { folder, message: err.message }))),
      });
    });
    return () => {
      gone = true;
      handle?.close();
    };
  }, [mayUpload, id, lang]);

  if (!c) return error ? <ErrorNote error={error} /> : <p>{t('loading')}</p>;
  const number = c.numbers.find((n) => n.agency === session.agency)?.number ?? c.number;
  return (
    <section>
      <p><a href={href('/cases')}>← {t('backToCases')}</a></p>
      <h1>{t('case', { number })}</h1>
      <p class="subtitle">{c.title} · {c.agency} · {formatDate(c.createdAt)}</p>
      {mayUpload && (
        <section aria-labelledby="upload-h">
          <h2 id="upload-h">{t('upload')}</h2>
          <div ref={uploadTarget} class="uploader" />
          <ErrorNote error={folderError} />
        </section>
      )}
      <section aria-labelledby="dossiers-h">
        <h2 id="dossiers-h">{t('dossiers')}</h2>
        {(c.dossiers ?? []).length === 0 ? (
          <p>{t('noDossiers')}</p>
        ) : (
          <ul class="dossiers">
            {c.dossiers!.map((d) => <DossierRow key={d.id} initial={d} caseAgency={c.agency} session={session} mayReadTransfers={mayReadTransfers} />)}
          </ul>
        )}
      </section>
      {session.roles.some((r) => r === 'auditor' || r === 'admin') && <AuditEvents caseId={c.id} />}
    </section>
  );
}

function DossierRow({ initial, caseAgency, session, mayReadTransfers }: { initial: Dossier; caseAgency: string; session: Session; mayReadTransfers: boolean }) {
  const d = useLiveDossier(initial);
  return (
    <li class="dossier-row" data-dossier={d.id} data-status={d.status}>
      <div class="dossier-head">
        <strong>{d.title || d.filename}</strong> <StatusBadge status={d.status} /> <DossierProgress d={d} />
        {d.status === 'sealed' && <a class="button" href={href(`/dossiers/${d.id}`)}>{t('open')}</a>}
      </div>
      {d.status === 'sealed' && mayReadTransfers && <CustodyTimeline dossier={d} caseAgency={caseAgency} session={session} />}
    </li>
  );
}

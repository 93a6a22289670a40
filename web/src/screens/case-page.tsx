/** One case: its dossiers with live state and progress (Server-Sent Events), upload, and each dossier's custody timeline. */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Case, Dossier, Session } from '../api.js';
import { formatBytes, formatDate, locale, t, useLocale } from '../i18n/index.js';
import { href } from '../router.js';
import { DossierProgress, ErrorNote, StatusBadge } from '../status.js';
import { useData } from '../use-data.js';
import { useLiveDossier } from '../use-progress.js';
import { unfinishedUploads, type UnfinishedUpload } from '../unfinished-uploads.js';
import type { ResumedUpload, UploaderHandle } from './uploader.js';
import { AuditEvents } from './audit-events.js';
import { CustodyTimeline } from './custody-timeline.js';
import { shown } from '../shown-text.js';

export function CasePage({ id, session }: { id: string; session: Session }) {
  const lang = useLocale();
  // Loaded once and after each finished upload; each unsettled dossier then follows its own event stream.
  const { data: c, error, reload } = useData<Case>(`/api/cases/${id}`);
  const [folderError, setFolderError] = useState<Error | null>(null);
  // Uploads this browser left unfinished (closed mid-upload), and those it is continuing now.
  const [unfinished, setUnfinished] = useState<UnfinishedUpload[]>([]);
  const [resumed, setResumed] = useState<ResumedUpload[]>([]);
  const uploadTarget = useRef<HTMLDivElement>(null);
  const mayUpload = session.roles.includes('clerk') && c?.agency === session.agency;
  // The roles that may read transfers (dossier/access/policy.ts); the server refuses the others.
  const mayReadTransfers = session.roles.some((r) => r === 'clerk' || r === 'prosecutor' || r === 'judge' || r === 'admin');

  const uploader = useRef<UploaderHandle | null>(null);
  useEffect(() => {
    if (!mayUpload || !uploadTarget.current) return;
    let gone = false;
    void unfinishedUploads(session.user, id).then((u) => !gone && setUnfinished(u));
    void import('./uploader.js').then(({ mountUploader }) => {
      if (gone || !uploadTarget.current) return;
      uploader.current = mountUploader(uploadTarget.current, {
        user: session.user, caseId: id, locale: locale(), note: t('uploadHint'), onStarted: reload, onUploaded: reload,
        onResumed: (r) => setResumed((all) => [...all.filter((a) => a.name !== r.name), r]),
        onFolderError: (folder, err) => setFolderError(new Error(t('folderFailed', { folder, message: err.message }))),
      });
    });
    return () => {
      gone = true;
      uploader.current?.close();
      uploader.current = null;
    };
  }, [mayUpload, id]);
  // A language switch re-labels the uploader; making it anew would stop the uploads under way.
  useEffect(() => uploader.current?.setLocale(lang, t('uploadHint')), [lang]);

  if (!c) return error ? <ErrorNote error={error} /> : <p>{t('loading')}</p>;
  const number = c.numbers.find((n) => n.agency === session.agency)?.number ?? c.number;
  return (
    <section>
      <p><a href={href('/cases')}>← {t('backToCases')}</a></p>
      <h1>{t('case', { number })}</h1>
      <p class="subtitle">{shown(c.title)} · {c.agency} · {formatDate(c.createdAt)}</p>
      {mayUpload && (
        <section aria-labelledby="upload-h">
          <h2 id="upload-h">{t('upload')}</h2>
          <UploadNotices unfinished={unfinished.filter((u) => !resumed.some((r) => r.name === u.filename))} resumed={resumed} />
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

function UploadNotices({ unfinished, resumed }: { unfinished: UnfinishedUpload[]; resumed: ResumedUpload[] }) {
  return (
    <div class="upload-notices" role="status">
      {unfinished.length > 0 && (
        <section class="notice" data-unfinished aria-labelledby="unfinished-h">
          <h3 id="unfinished-h">{t('unfinishedTitle')}</h3>
          <ul class="plain">
            {unfinished.map((u) => (
              <li key={u.filename} data-unfinished-file={u.filename}>
                {t('unfinishedItem', { name: shown(u.filename), received: formatBytes(u.received), size: formatBytes(u.size), date: formatDate(u.startedAt?.toISOString()) })}
              </li>
            ))}
          </ul>
        </section>
      )}
      {resumed.map((r) => (
        <p key={r.name} class="notice" data-resumed={r.name}>{t('uploadResumed', { name: r.name, received: formatBytes(r.received), size: formatBytes(r.size) })}</p>
      ))}
    </div>
  );
}

function DossierRow({ initial, caseAgency, session, mayReadTransfers }: { initial: Dossier; caseAgency: string; session: Session; mayReadTransfers: boolean }) {
  const d = useLiveDossier(initial);
  return (
    <li class="dossier-row" data-dossier={d.id} data-status={d.status}>
      <div class="dossier-head">
        <strong>{shown(d.title || d.filename)}</strong> <StatusBadge status={d.status} /> <DossierProgress d={d} />
        {d.status === 'sealed' && <a class="button" href={href(`/dossiers/${d.id}`)}>{t('open')}</a>}
      </div>
      {d.status === 'sealed' && mayReadTransfers && <CustodyTimeline dossier={d} caseAgency={caseAgency} session={session} />}
    </li>
  );
}

/** A case's audit events, for auditors: who did what, when, in the order of the chain. */
import { formatDate, t, useLocale } from '../i18n/index.js';
import { ErrorNote } from '../status.js';
import { useData } from '../use-data.js';

interface AuditEvent {
  seq: number;
  time: string;
  actor: string;
  agency: string;
  action: string;
  target: { type: string; id: string };
}

/** Ids shortened for reading; a page's target is "<dossier>/<n>", so its number stays whole. */
const targetLabel = (target: { type: string; id: string }) => {
  const [id = '', n] = target.id.split('/');
  return n ? `${id.slice(0, 8)} / ${n}` : id.slice(0, 8);
};

export function AuditEvents({ caseId }: { caseId: string }) {
  useLocale();
  const { data, error } = useData<{ events: AuditEvent[] }>(`/api/audit?caseId=${caseId}&limit=200`);
  return (
    <section aria-labelledby="audit-h">
      <h2 id="audit-h">{t('auditEvents')}</h2>
      <ErrorNote error={error} />
      {data && (
        <table>
          <thead>
            <tr><th scope="col">#</th><th scope="col">{t('time')}</th><th scope="col">{t('actor')}</th><th scope="col">{t('action')}</th><th scope="col">{t('target')}</th></tr>
          </thead>
          <tbody>
            {data.events.map((e) => (
              <tr key={e.seq}><td>{e.seq}</td><td>{formatDate(e.time)}</td><td>{e.actor} ({e.agency})</td><td><code>{e.action}</code></td><td>{e.target.type} {targetLabel(e.target)}</td></tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** A dossier's transfers as a timeline (sent, then accepted or returned, with the signed receipt), and the send form. */
import { useState } from 'preact/hooks';
import { post, type Agency, type Dossier, type Session, type Stage, type Transfer } from '../api.js';
import { formatDate, locale, t, useLocale } from '../i18n/index.js';
import { ErrorNote } from '../status.js';
import { useData } from '../use-data.js';

export const stageLabel = (stages: Stage[] | undefined, name: string) => stages?.find((s) => s.name === name)?.label[locale()] ?? name;

export function CustodyTimeline({ dossier, caseAgency, session }: { dossier: Dossier; caseAgency: string; session: Session }) {
  useLocale();
  const { data, error, reload } = useData<{ transfers: Transfer[] }>(`/api/dossiers/${dossier.id}/transfers`);
  const stages = useData<{ stages: Stage[] }>('/api/stages').data?.stages;
  const transfers = data?.transfers ?? [];
  // The server decides; this only hides a form that could not succeed.
  const holder = transfers.length === 0 ? caseAgency : lastHolder(transfers);
  const maySend = session.roles.includes('clerk') && holder === session.agency;

  return (
    <div class="custody">
      <h3>{t('custody')}</h3>
      {error ? (
        <ErrorNote error={error} />
      ) : !data ? (
        <p>{t('loading')}</p>
      ) : transfers.length === 0 ? (
        <p>{t('noTransfers')}</p>
      ) : (
        <ol class="timeline">
          {transfers.map((x) => (
            <li key={x.id}>
              <time dateTime={x.sentAt}>{formatDate(x.sentAt)}</time> {t('sentTo', { from: x.fromAgency, to: x.toAgency, stage: stageLabel(stages, x.stage) })}
              {x.note && <q>{x.note}</q>}
              {x.status === 'pending' ? (
                <span class="badge badge-pending">{t('transfer_pending')}</span>
              ) : (
                <div>
                  <time dateTime={x.answeredAt ?? ''}>{formatDate(x.answeredAt)}</time>{' '}
                  {x.status === 'accepted' ? t('answered_accepted', { by: x.toAgency }) : t('answered_returned', { by: x.toAgency, reason: x.reason ?? '' })}
                  {x.receipt && (
                    <details>
                      <summary>{t('receipt')}</summary>
                      <code class="jws">{x.receipt}</code>
                    </details>
                  )}
                </div>
              )}
            </li>
          ))}
        </ol>
      )}
      {maySend && <SendForm dossierId={dossier.id} stages={stages} session={session} onSent={reload} />}
    </div>
  );
}

/** Who holds the dossier after these transfers: the last accepting receiver, or the sender of the last returned one. */
function lastHolder(transfers: Transfer[]): string | null {
  const last = transfers[transfers.length - 1];
  if (!last) return null;
  return last.status === 'accepted' ? last.toAgency : last.status === 'returned' ? last.fromAgency : null;
}

function SendForm({ dossierId, stages, session, onSent }: { dossierId: string; stages: Stage[] | undefined; session: Session; onSent: () => void }) {
  const list = (useData<{ agencies: Agency[] }>('/api/agencies').data?.agencies ?? []).filter((a) => a.id !== session.agency);
  const [to, setTo] = useState('');
  const [stage, setStage] = useState('');
  const [error, setError] = useState<Error | null>(null);
  const [done, setDone] = useState(false);
  // Until the user picks, the first of each list is the choice shown and sent.
  const chosenAgency = to || list[0]?.id || '';
  const chosenStage = stage || stages?.[0]?.name || '';
  const send = async (e: Event) => {
    e.preventDefault();
    try {
      await post(`/api/dossiers/${dossierId}/transfers`, { toAgency: chosenAgency, stage: chosenStage });
      setDone(true);
      onSent();
    } catch (err) {
      setError(err as Error);
    }
  };
  return (
    <form class="inline-form" onSubmit={send} aria-label={t('send')}>
      <label>{t('sendTo')}
        <select name="toAgency" value={chosenAgency} onChange={(e) => setTo((e.target as HTMLSelectElement).value)}>
          {list.map((a) => <option key={a.id} value={a.id}>{a.name}</option>)}
        </select>
      </label>
      <label>{t('stage')}
        <select name="stage" value={chosenStage} onChange={(e) => setStage((e.target as HTMLSelectElement).value)}>
          {(stages ?? []).map((s) => <option key={s.name} value={s.name}>{s.label[locale()]}</option>)}
        </select>
      </label>
      <button type="submit" disabled={list.length === 0}>{t('send')}</button>
      {done && <span role="status">{t('sent')}</span>}
      <ErrorNote error={error} />
    </form>
  );
}

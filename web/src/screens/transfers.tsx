/** The agency's inbox and outbox: accept (with the receiver's own case number) or return with a reason. */
import { useState } from 'preact/hooks';
import { post, type Session, type Stage, type Transfer } from '../api.js';
import { formatDate, t, useLocale } from '../i18n/index.js';
import { href } from '../router.js';
import { ErrorNote } from '../status.js';
import { useData } from '../use-data.js';
import { stageLabel } from './custody-timeline.js';

export function TransfersScreen({ session }: { session: Session }) {
  useLocale();
  const [direction, setDirection] = useState<'in' | 'out'>('in');
  const { data, error, reload } = useData<{ transfers: Transfer[] }>(`/api/transfers?direction=${direction}`);
  const stages = useData<{ stages: Stage[] }>('/api/stages').data?.stages;
  const mayAnswer = session.roles.some((r) => r === 'prosecutor' || r === 'judge');

  return (
    <section>
      <h1>{t('navTransfers')}</h1>
      <div role="tablist" class="tabs">
        {(['in', 'out'] as const).map((dir) => (
          <button key={dir} type="button" role="tab" aria-selected={direction === dir} onClick={() => setDirection(dir)}>
            {dir === 'in' ? t('inbox') : t('outbox')}
          </button>
        ))}
      </div>
      <ErrorNote error={error} />
      {!data ? <p>{t('loading')}</p> : data.transfers.length === 0 ? <p>{t('noTransfers')}</p> : (
        <table>
          <thead>
            <tr><th scope="col">{t('dossier')}</th><th scope="col">{direction === 'in' ? t('from') : t('to')}</th><th scope="col">{t('stage')}</th><th scope="col">{t('sentAt')}</th><th scope="col">{t('status')}</th><th scope="col">{t('actions')}</th></tr>
          </thead>
          <tbody>
            {data.transfers.map((x) => (
              <tr key={x.id} data-transfer={x.id}>
                <td><a href={href(`/cases/${x.caseId}`)}>{x.dossierId.slice(0, 8)}</a></td>
                <td>{direction === 'in' ? x.fromAgency : x.toAgency}</td>
                <td>{stageLabel(stages, x.stage)}</td>
                <td>{formatDate(x.sentAt)}</td>
                <td><span class={`badge badge-${x.status}`}>{t(`transfer_${x.status}`)}</span></td>
                <td>{direction === 'in' && x.status === 'pending' && mayAnswer ? <Answer transfer={x} onDone={reload} /> : x.reason ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Answer({ transfer, onDone }: { transfer: Transfer; onDone: () => void }) {
  const [caseNumber, setCaseNumber] = useState('');
  const [reason, setReason] = useState('');
  const [error, setError] = useState<Error | null>(null);
  const act = (path: string, body: object) => async (e: Event) => {
    e.preventDefault();
    try {
      await post(`/api/transfers/${transfer.id}/${path}`, body);
      onDone();
    } catch (err) {
      setError(err as Error);
    }
  };
  return (
    <div class="answer">
      <form onSubmit={act('accept', caseNumber ? { caseNumber } : {})}>
        <label>{t('yourCaseNumber')}<input value={caseNumber} onInput={(e) => setCaseNumber((e.target as HTMLInputElement).value)} /></label>
        <button type="submit">{t('accept')}</button>
      </form>
      <form onSubmit={act('return', { reason })}>
        <label>{t('reason')}<input required value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} /></label>
        <button type="submit">{t('returnIt')}</button>
      </form>
      <ErrorNote error={error} />
    </div>
  );
}

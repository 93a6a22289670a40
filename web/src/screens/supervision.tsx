/**
 * Supervision at a glance: transfers per week by outcome, time to accept per stage, and the
 * overdue list with how late each is. From GET /api/stats and /api/supervision/overdue: a
 * supervising committee's supervisor sees every agency, anyone else their own agency.
 */
import { useEffect, useState } from 'preact/hooks';
import { get, type Stage } from '../api.js';
import { durationText } from '../duration-text.js';
import { formatDate, formatNumber, locale, t, useLocale } from '../i18n/index.js';
import { ErrorNote } from '../status.js';
import { useData } from '../use-data.js';
import { stageLabel } from './custody-timeline.js';

interface Counts { sent: number; accepted: number; returned: number; pending: number; overdue: number; acceptSeconds: { p50: number | null; p90: number | null } }
interface Stats extends Counts { returnReasons: { reason: string; count: number }[]; ocrBacklog: number }
interface Overdue { transferId: string; caseNumber: string; fromAgency: string; toAgency: string; stage: string; sentAt: string; dueAt: string | null; clock: string; lateSeconds: number | null }

const WEEKS = 8;
const DAY = 86_400_000;

/** Monday 00:00 (local time) of the week `back` weeks before this one. */
function weekStart(back: number): Date {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  d.setDate(d.getDate() - ((d.getDay() + 6) % 7) - 7 * back);
  return d;
}

const stats = (from: Date, to: Date, stage?: string) =>
  get<Stats>(`/api/stats?from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}${stage ? `&stage=${encodeURIComponent(stage)}` : ''}`);

export function SupervisionScreen() {
  useLocale();
  const [weeks, setWeeks] = useState<{ from: Date; s: Stats }[] | null>(null);
  const [byStage, setByStage] = useState<{ stage: string; s: Stats }[] | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const stages = useData<{ stages: Stage[] }>('/api/stages').data?.stages;
  const overdue = useData<{ items: Overdue[] }>('/api/supervision/overdue?include=due-soon');

  useEffect(() => {
    const starts = Array.from({ length: WEEKS }, (_, i) => weekStart(WEEKS - 1 - i));
    Promise.all(starts.map(async (from) => ({ from, s: await stats(from, new Date(Math.min(Date.now(), from.getTime() + 7 * DAY))) }))).then(setWeeks, setError);
  }, []);
  useEffect(() => {
    if (!stages) return;
    const from = weekStart(WEEKS - 1);
    Promise.all(stages.map(async (st) => ({ stage: st.name, s: await stats(from, new Date(), st.name) }))).then(setByStage, setError);
  }, [stages]);

  const most = Math.max(1, ...(weeks ?? []).map((w) => w.s.sent));
  return (
    <section class="supervision">
      <h1>{t('navSupervision')}</h1>
      <p class="subtitle">{t('supervisionWindow', { weeks: WEEKS })}</p>
      <ErrorNote error={error ?? overdue.error} />

      <section aria-labelledby="weekly-h">
        <h2 id="weekly-h">{t('perWeek')}</h2>
        {!weeks ? <p>{t('loading')}</p> : (
          <table class="weekly">
            <thead><tr><th scope="col">{t('weekOf')}</th><th scope="col">{t('sentCount')}</th><th scope="col">{t('transfer_accepted')}</th><th scope="col">{t('transfer_returned')}</th><th scope="col">{t('transfer_pending')}</th><th scope="col">{t('overdueCount')}</th><th scope="col"><span class="sr-only">{t('chart')}</span></th></tr></thead>
            <tbody>
              {weeks.map(({ from, s }) => (
                <tr key={from.toISOString()} data-week={from.toISOString()}>
                  <th scope="row">{new Intl.DateTimeFormat(locale(), { month: 'short', day: 'numeric' }).format(from)}</th>
                  <td>{formatNumber(s.sent)}</td><td>{formatNumber(s.accepted)}</td><td>{formatNumber(s.returned)}</td><td>{formatNumber(s.pending)}</td><td>{formatNumber(s.overdue)}</td>
                  <td class="bar-cell" aria-hidden="true">
                    <span class="bar bar-accepted" style={{ width: `${(100 * s.accepted) / most}%` }} />
                    <span class="bar bar-returned" style={{ width: `${(100 * s.returned) / most}%` }} />
                    <span class="bar bar-pending" style={{ width: `${(100 * s.pending) / most}%` }} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p class="legend" aria-hidden="true"><span class="bar bar-accepted" /> {t('transfer_accepted')} <span class="bar bar-returned" /> {t('transfer_returned')} <span class="bar bar-pending" /> {t('transfer_pending')}</p>
      </section>

      <section aria-labelledby="accept-h">
        <h2 id="accept-h">{t('timeToAccept')}</h2>
        {!byStage ? <p>{t('loading')}</p> : (
          <table class="by-stage">
            <thead><tr><th scope="col">{t('stage')}</th><th scope="col">{t('sentCount')}</th><th scope="col">{t('transfer_accepted')}</th><th scope="col">{t('median')}</th><th scope="col">{t('p90')}</th></tr></thead>
            <tbody>
              {byStage.map(({ stage, s }) => (
                <tr key={stage} data-stage={stage}>
                  <th scope="row">{stageLabel(stages, stage)}</th><td>{formatNumber(s.sent)}</td><td>{formatNumber(s.accepted)}</td>
                  <td>{durationText(s.acceptSeconds.p50)}</td><td>{durationText(s.acceptSeconds.p90)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="overdue-h">
        <h2 id="overdue-h">{t('overdueList')}</h2>
        {!overdue.data ? <p>{t('loading')}</p> : overdue.data.items.length === 0 ? <p>{t('noOverdue')}</p> : (
          <table class="overdue">
            <thead><tr><th scope="col">{t('caseNumber')}</th><th scope="col">{t('from')}</th><th scope="col">{t('to')}</th><th scope="col">{t('stage')}</th><th scope="col">{t('sentAt')}</th><th scope="col">{t('dueAt')}</th><th scope="col">{t('late')}</th></tr></thead>
            <tbody>
              {overdue.data.items.map((o) => (
                <tr key={o.transferId} data-overdue={o.transferId} data-clock={o.clock}>
                  <th scope="row">{o.caseNumber}</th><td>{o.fromAgency}</td><td>{o.toAgency}</td><td>{stageLabel(stages, o.stage)}</td>
                  <td>{formatDate(o.sentAt)}</td><td>{formatDate(o.dueAt)}</td>
                  <td class={o.clock === 'overdue' ? 'problem' : ''}>{o.clock === 'overdue' ? t('lateBy', { time: durationText(o.lateSeconds) }) : t('dueSoon')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </section>
  );
}

import { useState } from 'preact/hooks';
import { post, type Case, type Session } from '../api.js';
import { formatDate, t, useLocale } from '../i18n/index.js';
import { href, navigate } from '../router.js';
import { ErrorNote, StatusBadge } from '../status.js';
import { useData } from '../use-data.js';
import { shown as shownText } from '../shown-text.js';

const matches = (c: Case, filter: string) => {
  const f = filter.trim().toLowerCase();
  if (!f) return true;
  const states = (c.dossiers ?? []).flatMap((d) => [d.status, t(`status_${d.status}`)]);
  return [c.number, c.title, ...c.numbers.map((n) => n.number), ...states].some((s) => s.toLowerCase().includes(f));
};

export function CaseList({ session }: { session: Session }) {
  useLocale();
  const { data, error } = useData<{ cases: Case[] }>('/api/cases?limit=500');
  const [filter, setFilter] = useState('');
  const [number, setNumber] = useState('');
  const [title, setTitle] = useState('');
  const [createError, setCreateError] = useState<Error | null>(null);
  const mayCreate = session.roles.some((r) => r === 'clerk' || r === 'admin');

  const create = async (e: Event) => {
    e.preventDefault();
    try {
      const c = await post<Case>('/api/cases', { number, title });
      navigate(`/cases/${c.id}`);
    } catch (err) {
      setCreateError(err as Error);
    }
  };
  const shown = (data?.cases ?? []).filter((c) => matches(c, filter));

  return (
    <section>
      <h1>{t('cases')}</h1>
      {mayCreate && (
        <form class="inline-form" onSubmit={create} aria-label={t('createCase')}>
          <label>{t('caseNumber')}<input name="number" required value={number} onInput={(e) => setNumber((e.target as HTMLInputElement).value)} /></label>
          <label>{t('caseTitle')}<input name="title" value={title} onInput={(e) => setTitle((e.target as HTMLInputElement).value)} /></label>
          <button type="submit">{t('createCase')}</button>
        </form>
      )}
      <ErrorNote error={createError ?? error} />
      <label class="filter">{t('filter')}<input type="search" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} /></label>
      {!data ? (
        <p>{t('loading')}</p>
      ) : shown.length === 0 ? (
        <p>{data.cases.length ? t('noMatch') : t('noCases')}</p>
      ) : (
        <table>
          <thead>
            <tr><th scope="col">{t('caseNumber')}</th><th scope="col">{t('caseTitle')}</th><th scope="col">{t('owner')}</th><th scope="col">{t('dossiers')}</th><th scope="col">{t('created')}</th></tr>
          </thead>
          <tbody>
            {shown.map((c) => (
              <tr key={c.id}>
                <td><a href={href(`/cases/${c.id}`)}>{c.numbers.find((n) => n.agency === session.agency)?.number ?? c.number}</a></td>
                <td>{shownText(c.title)}</td>
                <td>{c.agency}</td>
                <td>{(c.dossiers ?? []).map((d) => <StatusBadge key={d.id} status={d.status} />)}</td>
                <td>{formatDate(c.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

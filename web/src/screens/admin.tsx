/**
 * Administration: agencies (register), stages of proceedings and their deadlines (edit), and the
 * local accounts of the admin's own agency (add, disable, enable, new password). Every change goes
 * through the public HTTP API (POST /api/agencies, PUT /api/stages/:name, /api/accounts).
 */
import { useState } from 'preact/hooks';
import { api, post, type Agency, type Session, type Stage } from '../api.js';
import { formatDate, t, useLocale } from '../i18n/index.js';
import { ErrorNote } from '../status.js';
import { useData } from '../use-data.js';

const KINDS = ['police', 'procuratorate', 'court', 'committee', 'other'] as const;
const ROLES = ['clerk', 'prosecutor', 'judge', 'auditor', 'supervisor', 'admin'] as const;

interface Account { user: string; agency: string; roles: string[]; disabled: boolean; locked: boolean; createdAt: string }

const formValues = (e: Event) => new FormData(e.currentTarget as HTMLFormElement);

function useAction(reload: () => void) {
  const [error, setError] = useState<Error | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const run = async (fn: () => Promise<unknown>, message: string) => {
    try {
      await fn();
      setError(null);
      setDone(message);
      reload();
    } catch (err) {
      setDone(null);
      setError(err as Error);
    }
  };
  const note = (
    <>
      <ErrorNote error={error} />
      {done && <p class="ok" role="status">{done}</p>}
    </>
  );
  return { run, note };
}

export function AdminScreen({ session }: { session: Session }) {
  useLocale();
  return (
    <section class="admin">
      <h1>{t('navAdmin')}</h1>
      <Agencies />
      <Stages />
      <Accounts session={session} />
    </section>
  );
}

function Agencies() {
  const { data, reload } = useData<{ agencies: Agency[] }>('/api/agencies');
  const { run, note } = useAction(reload);
  const add = (e: Event) => {
    e.preventDefault();
    const f = formValues(e);
    const form = e.currentTarget as HTMLFormElement;
    void run(async () => (await post('/api/agencies', { id: f.get('id'), name: f.get('name'), kind: f.get('kind') }), form.reset()), t('agencyAdded', { id: String(f.get('id')) }));
  };
  return (
    <section aria-labelledby="agencies-h" class="panel">
      <h2 id="agencies-h">{t('agencies')}</h2>
      <table>
        <thead><tr><th scope="col">{t('agencyId')}</th><th scope="col">{t('agencyName')}</th><th scope="col">{t('agencyKind')}</th></tr></thead>
        <tbody>{(data?.agencies ?? []).map((a) => <tr key={a.id} data-agency={a.id}><td><code>{a.id}</code></td><td>{a.name}</td><td>{t(`kind_${a.kind as (typeof KINDS)[number]}`)}</td></tr>)}</tbody>
      </table>
      <form class="inline-form" onSubmit={add} aria-label={t('addAgency')}>
        <label>{t('agencyId')} <input name="id" required pattern="[A-Za-z0-9][A-Za-z0-9._\-]{0,63}" /></label>
        <label>{t('agencyName')} <input name="name" required /></label>
        <label>{t('agencyKind')} <select name="kind">{KINDS.map((k) => <option key={k} value={k}>{t(`kind_${k}`)}</option>)}</select></label>
        <button type="submit">{t('addAgency')}</button>
      </form>
      {note}
    </section>
  );
}

function Stages() {
  const { data, reload } = useData<{ stages: (Stage & { order?: number })[] }>('/api/stages');
  const { run, note } = useAction(reload);
  const save = (e: Event, name: string) => {
    e.preventDefault();
    const f = formValues(e);
    void run(() => api('PUT', `/api/stages/${encodeURIComponent(name)}`, { label: { en: f.get('en'), 'zh-CN': f.get('zh') }, deadline: f.get('deadline') }), t('stageSaved', { name }));
  };
  const add = (e: Event) => {
    const name = String(formValues(e).get('name') ?? '');
    save(e, name);
    (e.currentTarget as HTMLFormElement).reset();
  };
  return (
    <section aria-labelledby="stages-h" class="panel">
      <h2 id="stages-h">{t('stagesAndDeadlines')}</h2>
      <p class="hint">{t('deadlineHint')}</p>
      <ul class="plain stages">
        {(data?.stages ?? []).map((s) => (
          <li key={s.name} data-stage={s.name}>
            <form class="inline-form" onSubmit={(e) => save(e, s.name)} aria-label={t('stageForm', { name: s.name })}>
              <code>{s.name}</code>
              <label>{t('labelEn')} <input name="en" defaultValue={s.label.en} required /></label>
              <label>{t('labelZh')} <input name="zh" defaultValue={s.label['zh-CN']} required /></label>
              <label>{t('deadline')} <input name="deadline" defaultValue={s.deadline} required size={8} /></label>
              <button type="submit">{t('save')}</button>
            </form>
          </li>
        ))}
      </ul>
      <form class="inline-form" onSubmit={add} aria-label={t('addStage')}>
        <label>{t('stageName')} <input name="name" required pattern="[a-z0-9][a-z0-9\-]{0,63}" /></label>
        <label>{t('labelEn')} <input name="en" required /></label>
        <label>{t('labelZh')} <input name="zh" required /></label>
        <label>{t('deadline')} <input name="deadline" required placeholder="P30D" size={8} /></label>
        <button type="submit">{t('addStage')}</button>
      </form>
      {note}
    </section>
  );
}

function Accounts({ session }: { session: Session }) {
  const { data, error, reload } = useData<{ accounts: Account[] }>('/api/accounts');
  const { run, note } = useAction(reload);
  const [resetting, setResetting] = useState<string | null>(null);
  const add = (e: Event) => {
    e.preventDefault();
    const f = formValues(e);
    const form = e.currentTarget as HTMLFormElement;
    void run(async () => (await post('/api/accounts', { user: f.get('user'), roles: f.getAll('roles'), password: f.get('password') }), form.reset()), t('accountAdded', { user: String(f.get('user')) }));
  };
  const patch = (user: string, body: Record<string, unknown>, message: string) => run(() => api('PATCH', `/api/accounts/${encodeURIComponent(user)}`, body), message);
  return (
    <section aria-labelledby="accounts-h" class="panel">
      <h2 id="accounts-h">{t('accounts', { agency: session.agency })}</h2>
      <ErrorNote error={error} />
      <table>
        <thead><tr><th scope="col">{t('user')}</th><th scope="col">{t('roles')}</th><th scope="col">{t('status')}</th><th scope="col">{t('createdAt')}</th><th scope="col">{t('actions')}</th></tr></thead>
        <tbody>
          {(data?.accounts ?? []).map((a) => (
            <tr key={a.user} data-account={a.user}>
              <td>{a.user}</td>
              <td>{a.roles.map((r) => t(`role_${r as (typeof ROLES)[number]}`)).join(', ')}</td>
              <td>{a.disabled ? t('accountStatusDisabled') : a.locked ? t('accountLocked') : t('accountActive')}</td>
              <td>{formatDate(a.createdAt)}</td>
              <td>
                {a.user !== session.user && (
                  <button type="button" onClick={() => void patch(a.user, { disabled: !a.disabled }, a.disabled ? t('accountEnabledNote', { user: a.user }) : t('accountDisabledNote', { user: a.user }))}>
                    {a.disabled ? t('enable') : t('disable')}
                  </button>
                )}
                <button type="button" onClick={() => setResetting(resetting === a.user ? null : a.user)}>{t('newPassword')}</button>
                {resetting === a.user && (
                  <form class="inline-form" aria-label={t('newPasswordFor', { user: a.user })} onSubmit={(e) => (e.preventDefault(), void patch(a.user, { password: formValues(e).get('password') }, t('passwordSet', { user: a.user })).then(() => setResetting(null)))}>
                    <label>{t('password')} <input type="password" name="password" minLength={12} required autoComplete="new-password" /></label>
                    <button type="submit">{t('save')}</button>
                  </form>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form class="inline-form" onSubmit={add} aria-label={t('addAccount')}>
        <label>{t('user')} <input name="user" required autoComplete="off" /></label>
        <fieldset class="roles">
          <legend>{t('roles')}</legend>
          {ROLES.map((r) => <label key={r} class="check"><input type="checkbox" name="roles" value={r} /> {t(`role_${r}`)}</label>)}
        </fieldset>
        <label>{t('password')} <input type="password" name="password" minLength={12} required autoComplete="new-password" /></label>
        <button type="submit">{t('addAccount')}</button>
      </form>
      {note}
    </section>
  );
}

/** The signed-in application: header, navigation, and the screen the route names. */
import { useEffect, useState } from 'preact/hooks';
import { api, get, setCsrfToken, whenSignedOut, type Session } from './api.js';
import { t, useLocale } from './i18n/index.js';
import { LanguageSwitch } from './language-switch.js';
import { useRoute, href } from './router.js';
import { CaseList } from './screens/case-list.js';
import { CasePage } from './screens/case-page.js';
import { AdminScreen } from './screens/admin.js';
import { SearchScreen } from './screens/search.js';
import { SignIn } from './screens/sign-in.js';
import { SupervisionScreen } from './screens/supervision.js';
import { TransfersScreen } from './screens/transfers.js';
import { Viewer } from './screens/viewer.js';

export function App() {
  useLocale();
  const route = useRoute();
  const [session, setSession] = useState<Session | null | undefined>(undefined);

  useEffect(() => {
    whenSignedOut(() => {
      setCsrfToken(null);
      setSession(null);
    });
    get<Session>('/api/session').then(
      (s) => (setCsrfToken(s.csrfToken), setSession(s)),
      () => setSession(null),
    );
  }, []);

  if (session === undefined) return <p class="loading">{t('loading')}</p>;
  if (session === null) return <SignIn onSignedIn={(s) => (setCsrfToken(s.csrfToken), setSession(s))} />;

  const signOut = async () => {
    await api('DELETE', '/api/session').catch(() => undefined);
    setCsrfToken(null);
    setSession(null);
  };
  const [first, id] = route.path;
  // A supervisor reads metadata and statistics only: the supervision page is all there is.
  const supervisor = session.roles.includes('supervisor');
  const admin = session.roles.includes('admin');
  const current = first ?? (supervisor ? 'supervision' : 'cases');
  let screen;
  if (supervisor || current === 'supervision') screen = <SupervisionScreen />;
  else if (first === 'admin' && admin) screen = <AdminScreen session={session} />;
  else if (first === 'cases' && id) screen = <CasePage id={id} session={session} />;
  else if (first === 'dossiers' && id) screen = <Viewer id={id} session={session} page={Number(route.query.get('page')) || null} q={route.query.get('q') ?? ''} />;
  else if (first === 'transfers') screen = <TransfersScreen session={session} />;
  else if (first === 'search') screen = <SearchScreen q={route.query.get('q') ?? ''} />;
  else screen = <CaseList session={session} />;

  const nav = (name: string, path: string, label: string) => (
    <a href={href(path)} aria-current={current === name ? 'page' : undefined}>{label}</a>
  );
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>{t('skipToContent')}</a>
      <header class="top">
        <span class="brand">{t('appName')}</span>
        <nav aria-label={t('appName')}>
          {!supervisor && nav('cases', '/cases', t('navCases'))}
          {!supervisor && nav('transfers', '/transfers', t('navTransfers'))}
          {!supervisor && nav('search', '/search', t('navSearch'))}
          {nav('supervision', '/supervision', t('navSupervision'))}
          {admin && nav('admin', '/admin', t('navAdmin'))}
        </nav>
        <span class="who">{t('signedInAs', { user: session.user, agency: session.agency })}</span>
        <LanguageSwitch />
        <button type="button" onClick={signOut}>{t('signOut')}</button>
      </header>
      <main id="main" tabIndex={-1}>{screen}</main>
    </>
  );
}

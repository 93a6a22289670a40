import { useEffect, useState } from 'preact/hooks';
import { ApiError, get, post, type Session } from '../api.js';
import { t, useLocale } from '../i18n/index.js';
import { LanguageSwitch } from '../language-switch.js';

export function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  useLocale();
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // The agency's identity provider, when the gateway has one: a full-page journey there and back.
  const [provider, setProvider] = useState<{ label: string | null; start: string } | null>(null);
  useEffect(() => {
    get<{ oidc: { label: string | null; start: string } | null }>('/api/session/methods').then((m) => setProvider(m.oidc), () => setProvider(null));
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      onSignedIn(await post<Session>('/api/session', { user, password }));
    } catch (err) {
      const code = err instanceof ApiError ? err.code : 'internal';
      setProblem(code === 'too_many_attempts' ? t('tooManyAttempts') : code === 'forbidden' ? t('accountDisabled') : code === 'invalid_credentials' ? t('wrongCredentials') : t('error', { message: (err as Error).message }));
    } finally {
      setBusy(false);
      setPassword('');
    }
  };

  return (
    <main id="main" class="sign-in">
      <div class="sign-in-lang"><LanguageSwitch /></div>
      <h1>{t('signInTitle')}</h1>
      <form onSubmit={submit}>
        <label>
          {t('user')}
          <input name="user" autocomplete="username" required value={user} onInput={(e) => setUser((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          {t('password')}
          <input name="password" type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        </label>
        {problem && <p class="problem" role="alert">{problem}</p>}
        <button type="submit" disabled={busy}>{t('signIn')}</button>
      </form>
      {provider && (
        <p class="sign-in-provider">
          <span>{t('orSignInWith')}</span>{' '}
          <a class="button" href={`${provider.start}?return=${encodeURIComponent(`/${location.hash}`)}`}>{t('signInWithProvider', { provider: provider.label ?? t('agencyProvider') })}</a>
        </p>
      )}
    </main>
  );
}

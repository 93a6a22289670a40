/** The page a signed link opens for a receiver without an account: what it holds, the download, how to verify. */
import { useEffect, useState } from 'preact/hooks';
import { formatDate, t, useLocale } from '../i18n/index.js';
import { LanguageSwitch } from '../language-switch.js';
import { shown } from '../shown-text.js';

interface LinkInfo {
  case: { number: string; title: string };
  dossier: { id: string; filename: string; pageCount: number; sealedAt: string; merkleRoot: string; sha256: string };
  expiresAt: string;
  singleUse: boolean;
}

export function Landing({ token }: { token: string }) {
  useLocale();
  const [info, setInfo] = useState<LinkInfo | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [pageNumber, setPageNumber] = useState('1');
  useEffect(() => {
    fetch(`/d/${token}/info`, { credentials: 'omit' }).then(async (r) => {
      const json = await r.json();
      if (r.ok) setInfo(json);
      else setProblem(json?.error?.message ?? r.statusText);
    }, (err: Error) => setProblem(err.message));
  }, [token]);
  return (
    <main id="main" class="landing">
      <div class="sign-in-lang"><LanguageSwitch /></div>
      <h1>{t('landingTitle')}</h1>
      {problem && <p class="problem" role="alert">{t('landingInvalid', { message: problem })}</p>}
      {!info && !problem && <p>{t('loading')}</p>}
      {info && (
        <>
          <dl class="facts">
            <dt>{t('landingCase')}</dt><dd>{info.case.number} {info.case.title}</dd>
            <dt>{t('dossier')}</dt><dd>{shown(info.dossier.filename)}</dd>
            <dt>{t('landingPages')}</dt><dd>{t('pagesCount', { count: info.dossier.pageCount })}</dd>
            <dt>{t('landingSealed')}</dt><dd>{formatDate(info.dossier.sealedAt)}</dd>
            <dt>{t('landingExpires')}</dt><dd>{formatDate(info.expiresAt)}{info.singleUse ? ` · ${t('singleUse')}` : ''}</dd>
            <dt>{t('merkleRoot')}</dt><dd><code>{info.dossier.merkleRoot}</code></dd>
          </dl>
          <p><a class="button primary" href={`/d/${token}?download=1`} download>{t('landingDownload')}</a></p>
          {/* A single-use link is spent by its first download: one page would use it up. */}
          {!info.singleUse && (
            <p class="inline-form">
              <label>{t('landingPageNumber')}<input type="number" min={1} max={info.dossier.pageCount} value={pageNumber} onInput={(e) => setPageNumber((e.target as HTMLInputElement).value)} /></label>
              <a class="button" href={`/d/${token}/pages/${Math.min(info.dossier.pageCount, Math.max(1, Number(pageNumber) || 1))}`} download>{t('landingOnePage')}</a>
            </p>
          )}
          <section aria-labelledby="howto-h">
            <h2 id="howto-h">{t('landingHowToVerify')}</h2>
            <p>{t('landingVerifyText')}</p>
          </section>
        </>
      )}
    </main>
  );
}

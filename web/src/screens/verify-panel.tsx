/** The verification panel: what was proven, in plain words, or which page failed. */
import { useState } from 'preact/hooks';
import type { Dossier } from '../api.js';
import { t, useLocale } from '../i18n/index.js';
import { loadManifest, merkleRoot, pageMatches } from '../verify.js';

type Outcome =
  | { state: 'idle' }
  | { state: 'running'; done: number; total: number }
  | { state: 'ok'; kid: string; count: number; root: string }
  | { state: 'failed'; reasons: string[] };

const CONCURRENCY = 4;

export function VerifyPanel({ dossier }: { dossier: Dossier }) {
  useLocale();
  const [outcome, setOutcome] = useState<Outcome>({ state: 'idle' });

  const run = async () => {
    if (!crypto.subtle) return setOutcome({ state: 'failed', reasons: [t('verifyNoCrypto')] });
    const check = await loadManifest(dossier.id);
    if (!check.ok) return setOutcome({ state: 'failed', reasons: [check.reason === 'unsupported' ? t('verifyNoCrypto') : t('verifyBadSignature')] });
    const { manifest } = check;
    const reasons: string[] = [];
    const root = await merkleRoot(manifest.pages, manifest.suite);
    if (root !== manifest.merkleRoot || root !== dossier.merkleRoot) reasons.push(t('verifyBadRoot'));
    const bad: number[] = [];
    let next = 0;
    let done = 0;
    setOutcome({ state: 'running', done, total: manifest.pages.length });
    const worker = async () => {
      while (next < manifest.pages.length) {
        const page = manifest.pages[next++]!;
        if (!(await pageMatches(dossier.id, page, manifest.suite))) bad.push(page.index);
        done++;
        setOutcome({ state: 'running', done, total: manifest.pages.length });
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    for (const n of bad.sort((a, b) => a - b)) reasons.push(t('verifyBadPage', { n }));
    setOutcome(reasons.length ? { state: 'failed', reasons } : { state: 'ok', kid: check.kid, count: manifest.pages.length, root });
  };

  return (
    <section class="panel" aria-labelledby="verify-h">
      <h2 id="verify-h">{t('verify')}</h2>
      <button type="button" onClick={() => void run().catch((err: Error) => setOutcome({ state: 'failed', reasons: [t('error', { message: err.message })] }))} disabled={outcome.state === 'running'}>
        {t('verifyAll')}
      </button>
      <div role="status" aria-live="polite" class="verify-result" data-verify={outcome.state}>
        {outcome.state === 'running' && (
          <>
            <progress max={outcome.total} value={outcome.done} aria-label={t('verifying', { done: outcome.done, total: outcome.total })} /> {t('verifying', { done: outcome.done, total: outcome.total })}
          </>
        )}
        {outcome.state === 'ok' && <p class="ok">✓ {t('verifyOk', { kid: outcome.kid.slice(0, 12) + '…', count: outcome.count, root: outcome.root.slice(0, 16) + '…' })}</p>}
        {outcome.state === 'failed' && (
          <div class="problem">
            <p>✗ {t('verifyFailed')}</p>
            <ul>{outcome.reasons.map((r) => <li key={r}>{r}</li>)}</ul>
          </div>
        )}
      </div>
    </section>
  );
}

import { LOCALES, LOCALE_NAMES, setLocale, t, useLocale, type Locale } from './i18n/index.js';

export function LanguageSwitch() {
  const current = useLocale();
  return (
    <label class="lang">
      <span>{t('language')}</span>
      <select value={current} onChange={(e) => setLocale((e.target as HTMLSelectElement).value as Locale)}>
        {LOCALES.map((l) => (
          <option key={l} value={l} lang={l}>{LOCALE_NAMES[l]}</option>
        ))}
      </select>
    </label>
  );
}

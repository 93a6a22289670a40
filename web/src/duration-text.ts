/** A span of seconds in words of the chosen language: "2 d 3 h", "45 min". */
import { t } from './i18n/index.js';

export function durationText(seconds: number | null): string {
  if (seconds === null) return '—';
  const s = Math.max(0, Math.round(seconds));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return h > 0 ? `${t('durDays', { n: d })} ${t('durHours', { n: h })}` : t('durDays', { n: d });
  if (h > 0) return m > 0 ? `${t('durHours', { n: h })} ${t('durMinutes', { n: m })}` : t('durHours', { n: h });
  if (m > 0) return t('durMinutes', { n: m });
  return t('durSeconds', { n: s });
}

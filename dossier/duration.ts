/** Durations as operators and API callers write them: `90s`, `15m`, `8h`, `7d`. */
const durationPattern = /^(\d+)\s*(s|m|h|d)$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;

/** Parses `90s`, `15m`, `8h`, `7d` into seconds; null when it is not such a duration. */
export function parseDuration(text: string): number | null {
  const m = durationPattern.exec(text.trim());
  if (!m) return null;
  return Number(m[1]) * UNIT_SECONDS[m[2] as keyof typeof UNIT_SECONDS];
}

/** Seconds in the largest unit that divides them: 604800 → `7d`, 5400 → `90m`, 61 → `61s`. */
export function formatDuration(seconds: number): string {
  for (const unit of ['d', 'h', 'm'] as const) {
    if (seconds > 0 && seconds % UNIT_SECONDS[unit] === 0) return `${seconds / UNIT_SECONDS[unit]}${unit}`;
  }
  return `${seconds}s`;
}

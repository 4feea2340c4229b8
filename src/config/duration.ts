const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d+)(ms|s|m|h|d)$/;

/** Parses `30s`, `15m`, `1h`, `7d` (also `250ms`) into milliseconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  return Number.isSafeInteger(ms) && ms > 0 ? ms : undefined;
}

/** Parses a comma-separated list of durations such as `1h,24h,72h`. */
export function parseDurationList(text: string): number[] | undefined {
  const parts = text.split(',').map((p) => parseDuration(p));
  return parts.every((p): p is number => p !== undefined) ? parts : undefined;
}

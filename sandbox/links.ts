/** Pulls every URL out of a message payload (text, Slack blocks, Adaptive Cards, Zoom content). */
const URL_PATTERN = /https?:\/\/[^\s<>"'()|\]]+/g;

function collectStrings(value: unknown, out: string[]): void {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const item of value) collectStrings(item, out);
  else if (typeof value === 'object' && value !== null) for (const item of Object.values(value)) collectStrings(item, out);
}

export function extractLinks(payload: unknown): string[] {
  const strings: string[] = [];
  collectStrings(payload, strings);
  const links = new Set<string>();
  for (const s of strings) for (const match of s.matchAll(URL_PATTERN)) links.add(match[0].replace(/[.,;:!?]+$/, ''));
  return [...links];
}

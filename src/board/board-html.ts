import { escapeHtml } from '../common/html';

/** Trusted markup: built only from escaped parts by the functions below. */
export class Html {
  constructor(readonly markup: string) {}
  toString(): string {
    return this.markup;
  }
}

/** A tagged template that escapes every value that is not already `Html`. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0];
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1];
  });
  return new Html(out);
}

function render(value: unknown): string {
  if (value instanceof Html) return value.markup;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === undefined || value === null || value === false) return '';
  if (typeof value === 'string') return escapeHtml(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new TypeError('html`…` takes text, numbers, Html or lists of them');
}

const STYLE = `
:root{color-scheme:light}
body{font-family:system-ui,sans-serif;margin:0;color:#1a1a1a;line-height:1.45}
header{background:#0b3d91;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:center}
header a{color:#fff}
header .who{margin-left:auto;font-size:.9rem}
nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.2rem .9rem}
main{padding:1rem;max-width:72rem;margin:0 auto}
h1{font-size:1.5rem;margin:.5rem 0 1rem}
h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
.table{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.95rem}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #d0d4d9;vertical-align:top}
th{background:#f1f3f4}
p,li,code{overflow-wrap:anywhere}
td{overflow-wrap:break-word}
a{color:#0b57d0}
button{font-size:1rem;min-height:2.75rem;padding:.5rem 1rem;border-radius:.4rem;border:1px solid #0b57d0;background:#0b57d0;color:#fff;cursor:pointer}
button:focus,a:focus,input:focus,select:focus{outline:3px solid #f9ab00;outline-offset:2px}
input,select{font-size:1rem;padding:.4rem;border:1px solid #5f6368;border-radius:.3rem;max-width:100%}
form.inline{display:inline}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(14rem,1fr));gap:.8rem}
.card{border:1px solid #d0d4d9;border-radius:.5rem;padding:.7rem}
.bad{color:#a50e0e;font-weight:600}
.ok{color:#137333;font-weight:600}
.notice{background:#e8f0fe;border-left:4px solid #0b57d0;padding:.6rem .8rem}
code{font-size:.9em;background:#f1f3f4;padding:0 .2em;border-radius:.2em}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
svg text{font-size:11px;fill:#1a1a1a}
`;

export interface Layout {
  title: string;
  /** The signed-in key, shown in the header with the sign-out form; absent on the sign-in page. */
  session?: { keyLabel: string; csrfToken: string };
}

/** The board's page: server-rendered, no script, every style inline (the page CSP allows inline styles only). */
export function page(layout: Layout, body: Html): string {
  const nav = layout.session
    ? html`<nav aria-label="Board">
          <ul>
            <li><a href="/board">Overview</a></li>
            <li><a href="/board/incidents">Incidents</a></li>
            <li><a href="/board/tenants">Tenants</a></li>
            <li><a href="/board/webhooks">Webhooks</a></li>
          </ul>
        </nav>
        <span class="who"
          >${layout.session.keyLabel}
          <form class="inline" method="post" action="/board/sign-out">${csrfField(layout.session.csrfToken)}<button type="submit">Sign out</button></form></span
        >`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(layout.title)} · Auto Heal board</title>
<style>${STYLE}</style>
</head>
<body>
<header><strong>Auto Heal board</strong>${String(nav)}</header>
<main>
<h1>${escapeHtml(layout.title)}</h1>
${body.markup}
</main>
</body>
</html>
`;
}

export const csrfField = (csrfToken: string): Html => html`<input type="hidden" name="_csrf" value="${csrfToken}" />`;

/** A table with a caption for screen readers; `rows` are cells, each text or `Html`. */
export function table(caption: string, head: string[], rows: unknown[][], empty = 'Nothing here.'): Html {
  if (rows.length === 0) return html`<p>${empty}</p>`;
  return html`<div class="table">
    <table>
      <caption class="sr">
        ${caption}
      </caption>
      <thead>
        <tr>
          ${head.map((h) => html`<th scope="col">${h}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${rows.map(
          (r) =>
            html`<tr>
              ${r.map((c) => html`<td>${c}</td>`)}
            </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

export const when = (d: Date | string | null | undefined): string => (d ? new Date(d).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : '—');

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

const COLOURS: Record<string, string> = { success: '#137333', superseded: '#5f6368', transient: '#b06000', client_misconfigured: '#7b1fa2' };
/** The outcomes of failed refreshes are condition names: each its own colour, in a fixed order. */
const MORE = ['#a50e0e', '#1a73e8', '#00796b', '#c2185b', '#5d4037', '#455a64', '#827717', '#283593'];
const colour = (outcome: string, all: string[]): string => COLOURS[outcome] ?? MORE[all.filter((o) => !COLOURS[o]).indexOf(outcome) % MORE.length];

/**
 * Refresh outcomes per hour as a stacked bar chart in inline SVG: drawn by the server, so it needs
 * no script and no library, and the page CSP stays `script-src 'self'`. A table with the same
 * numbers follows it for screen readers and for copying.
 */
export function outcomesChart(series: { hour: Date; outcome: string; n: number }[], now = new Date()): Html {
  const start = Math.floor(now.getTime() / 3_600_000) * 3_600_000 - 23 * 3_600_000;
  const hours = Array.from({ length: 24 }, (_, i) => start + i * 3_600_000);
  const outcomes = [...new Set(series.map((s) => s.outcome))].sort();
  const at = (hour: number, outcome: string) => series.find((s) => new Date(s.hour).getTime() === hour && s.outcome === outcome)?.n ?? 0;
  const totals = hours.map((h) => outcomes.reduce((sum, o) => sum + at(h, o), 0));
  const max = Math.max(1, ...totals);
  const W = 720;
  const H = 180;
  const barW = (W - 40) / 24;
  const bars = hours.flatMap((h, i) => {
    let y = H - 20;
    return outcomes.map((o) => {
      const height = (at(h, o) / max) * (H - 40);
      y -= height;
      return html`<rect
        x="${(40 + i * barW + 1).toFixed(1)}"
        y="${y.toFixed(1)}"
        width="${(barW - 2).toFixed(1)}"
        height="${height.toFixed(1)}"
        fill="${colour(o, outcomes)}"
      ></rect>`;
    });
  });
  const labels = hours
    .map((h, i) => ({ h, i }))
    .filter(({ i }) => i % 4 === 0)
    .map(({ h, i }) => html`<text x="${(40 + i * barW).toFixed(1)}" y="${H - 5}">${new Date(h).toISOString().slice(11, 16)}</text>`);
  const legend = outcomes.map((o) => html`<span style="color:${colour(o, outcomes)}">■</span> ${o} `);
  return html`<figure>
    <svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="Refresh outcomes per hour, last 24 hours, highest hour ${max}">
      <text x="0" y="14">${max}</text>
      <text x="0" y="${H - 22}">0</text>
      ${bars} ${labels}
    </svg>
    <figcaption>${outcomes.length ? legend : 'No refreshes in the last 24 hours.'}</figcaption>
  </figure>`;
}

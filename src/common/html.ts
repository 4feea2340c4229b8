const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/**
 * A plain, accessible page with no external assets. `paragraphs` are text (escaped);
 * `extraHtml` is trusted markup built by the caller from escaped parts. Text wraps anywhere:
 * Microsoft scope names are long URLs and the page must not scroll sideways at 360 px.
 */
export function htmlPage(title: string, paragraphs: string[], extraHtml = ''): string {
  const body = paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#1a1a1a}
button{font-size:1rem;min-height:2.75rem;padding:.6rem 1.2rem;border-radius:.4rem;border:1px solid #0b57d0;background:#0b57d0;color:#fff;cursor:pointer}
button:focus{outline:3px solid #f9ab00;outline-offset:2px}
h2{font-size:1.15rem;margin-top:1.5rem}
ul{padding-left:1.25rem}
p,li,code{overflow-wrap:anywhere}
code{font-size:.95em;background:#f1f3f4;padding:0 .2em;border-radius:.2em}</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${body}
${extraHtml}
</main>
</body>
</html>
`;
}

import type { ConnectionView } from '../connections/connections.dto';
import type { IncidentView } from '../heal/incidents.dto';
import type { DeliveryRow } from '../webhooks/delivery/deliveries.repository';
import type { AffectedRow, Overview, TenantRow } from './board-queries';
import { csrfField, duration, Html, html, outcomesChart, table, when } from './board-html';

/** Each condition of SPEC §3 in plain words, for the incident page. */
export const CONDITION_WORDS: Record<string, string> = {
  consent_required: 'The app is missing consent: a user or an admin has not granted the permissions the relay needs. An admin grants them for the whole organisation.',
  conditional_access_blocked: 'A Conditional Access policy of the organisation blocks the app from getting tokens. An admin changes the policy or excludes the app.',
  app_disabled: 'The app has been disabled in the organisation. An admin enables it again.',
  user_deleted: 'The user account was deleted from the directory. An admin decides whether to restore it; nothing else can heal it.',
  user_disabled: 'The user account is disabled. An admin enables it again.',
  grant_revoked: 'The user’s grant was revoked or expired (for example after a password change or reset). The user reconnects with a re-sync link.',
  mfa_enrollment_required: 'An admin now requires multi-factor enrollment. The user enrols and reconnects with a re-sync link.',
  refresh_token_inactive: 'The refresh token expired after a long time unused. The user reconnects with a re-sync link.',
};

export function signInBody(csrfToken: string, problem?: string): Html {
  return html`${problem ? html`<p class="bad" role="alert">${problem}</p>` : ''}
    <p>Sign in with an admin API key. The key is exchanged for a session; it is not kept in this browser.</p>
    <form method="post" action="/board/sign-in">
      ${csrfField(csrfToken)}
      <p><label for="key">Admin API key</label><br /><input id="key" name="key" type="password" autocomplete="off" required size="48" /></p>
      <p><button type="submit">Sign in</button></p>
    </form>`;
}

export function overviewBody(o: Overview, clients: Record<string, string>): Html {
  const platforms = [...new Set([...o.connections.map((c) => c.platform), ...Object.keys(clients)])].sort();
  const statuses = ['active', 'degraded', 'needs_reauth', 'blocked', 'revoked'];
  const count = (p: string, s: string) => o.connections.find((c) => c.platform === p && c.status === s)?.n ?? 0;
  return html`<h2>Connections by status</h2>
    ${table(
      'Connections by platform and status',
      ['platform', ...statuses, 'OAuth client'],
      platforms.map((p) => [p, ...statuses.map((s) => String(count(p, s))), html`<span class="${clients[p] === 'ok' ? 'ok' : 'bad'}">${clients[p] ?? '—'}</span>`]),
    )}
    <h2>Open incidents</h2>
    ${table(
      'Open incidents by condition and audience',
      ['platform', 'condition', 'audience', 'open'],
      o.openIncidents.map((i) => [i.platform, i.condition, i.audience, html`<a href="/board/incidents?status=open">${i.n}</a>`]),
      'No open incidents.',
    )}
    <h2>Heal times, last 30 days</h2>
    ${table(
      'Time from opened to resolved',
      ['platform', 'resolved', 'median', 'p90'],
      o.healTimes.map((h) => [h.platform, String(h.resolved), duration(h.medianSeconds), duration(h.p90Seconds)]),
      'No incident resolved in the last 30 days.',
    )}
    <p>Prompts that failed for good in the last 30 days: <strong id="prompts-failed">${o.promptsFailed}</strong></p>
    <h2>Refresh outcomes, last 24 hours</h2>
    ${outcomesChart(o.refreshes)}`;
}

export function incidentsBody(items: IncidentView[], status: string | undefined, nextCursor?: string): Html {
  const link = (s?: string) => html`<a href="/board/incidents${s ? `?status=${s}` : ''}" ${status === s ? html`aria-current="page"` : ''}>${s ?? 'all'}</a>`;
  return html`<p>Show: ${link()} · ${link('open')} · ${link('resolved')}</p>
    ${table(
      'Incidents',
      ['incident', 'condition', 'audience', 'status', 'users', 'opened', 'resolved'],
      items.map((i) => [
        html`<a href="/board/incidents/${i.id}">${i.id.slice(0, 8)}</a>`,
        i.condition,
        i.audience,
        i.status,
        String(i.connectionIds.length),
        when(i.openedAt),
        when(i.resolvedAt),
      ]),
      'No incidents.',
    )}
    ${nextCursor ? html`<p><a href="/board/incidents?${status ? `status=${status}&` : ''}cursor=${encodeURIComponent(nextCursor)}">Next page</a></p>` : ''}`;
}

export function incidentBody(i: IncidentView, users: AffectedRow[]): Html {
  const timeline = [
    { at: i.openedAt, what: `opened (${i.condition})` },
    ...i.prompts.filter((p) => p.sentAt).map((p) => ({ at: p.sentAt as string, what: `${p.kind} prompt delivered to ${p.recipient}` })),
    ...(i.resolvedAt ? [{ at: i.resolvedAt, what: 'resolved' }] : []),
  ].sort((a, b) => a.at.localeCompare(b.at));
  return html`<p class="notice">${CONDITION_WORDS[i.condition] ?? i.condition}</p>
    <p>Status: <strong id="incident-status">${i.status}</strong> · audience ${i.audience} · opened ${when(i.openedAt)}</p>
    <h2>Who was prompted</h2>
    ${table(
      'Prompts',
      ['kind', 'recipient', 'platform', 'delivery', 'delivered'],
      i.prompts.map((p) => [p.kind, p.recipient, p.platform, p.status, when(p.sentAt)]),
      'Nobody yet (a platform without a bot is told through its events only).',
    )}
    <h2>Affected users (${i.connectionIds.length})</h2>
    ${users.length < i.connectionIds.length ? html`<p>The first ${users.length} by user id:</p>` : ''}
    ${table(
      'Affected connections',
      ['user', 'platform', 'status'],
      users.map((c) => [html`<a href="/board/connections/${c.id}">${c.userExternalId}</a>`, c.platform, c.status]),
    )}
    <h2>Timeline</h2>
    <ol>
      ${timeline.map((t) => html`<li>${when(t.at)}: ${t.what}</li>`)}
    </ol>`;
}

export function connectionBody(
  c: ConnectionView,
  required: readonly string[],
  trail: { at: string; actor: string; action: string; outcome: string; detail?: Record<string, unknown> }[],
  keyNames: Record<string, string>,
  csrfToken: string,
  issued?: { url: string; expiresAt: string },
): Html {
  const missing = required.filter((s) => !c.scopes.includes(s));
  return html`${
      issued
        ? html`<p class="notice" role="status">
            A fresh re-sync link for ${c.userExternalId}, valid until ${when(issued.expiresAt)}: <a id="resync-link" href="${issued.url}">${issued.url}</a>
          </p>`
        : ''
    }
    <p>
      Status: <strong>${c.status}</strong> · ${c.platform} · user ${c.userExternalId} · tenant ${c.tenantExternalId}
      ${c.incidentId ? html` · <a href="/board/incidents/${c.incidentId}">its incident</a>` : ''}
    </p>
    <p>Access token expires ${when(c.accessTokenExpiresAt)} · refresh token expires ${when(c.refreshTokenExpiresAt)} · next refresh ${when(c.nextRefreshAt)}</p>
    ${c.lastError ? html`<p class="bad">Last error: ${c.lastError.kind} ${c.lastError.condition ?? ''} ${c.lastError.code ?? ''}: ${c.lastError.message}</p>` : ''}
    <h2>Scopes</h2>
    ${table(
      'Required and granted scopes',
      ['scope', 'required', 'granted'],
      [...new Set([...required, ...c.scopes])].map((s) => [
        html`<code>${s}</code>`,
        required.includes(s) ? 'yes' : 'no',
        c.scopes.includes(s) ? 'yes' : html`<span class="bad">no</span>`,
      ]),
    )}
    ${missing.length ? html`<p class="bad">Missing: ${missing.join(', ')}</p>` : ''}
    <form method="post" action="/board/connections/${c.id}/resync-link">${csrfField(csrfToken)}<button type="submit">Issue a fresh re-sync link</button></form>
    <h2>Timeline</h2>
    ${table(
      'Audit trail, newest first',
      ['when', 'what', 'outcome', 'by', 'code'],
      trail.map((e) => [when(e.at), e.action, e.outcome, keyNames[e.actor] ?? e.actor, typeof e.detail?.code === 'string' ? e.detail.code : '']),
      'No events yet.',
    )}`;
}

export function tenantsBody(tenants: TenantRow[], csrfToken: string, notice?: { ok: boolean; text: string }, nextCursor?: string): Html {
  return html`${notice ? html`<p class="${notice.ok ? 'ok' : 'bad'}" role="status">${notice.text}</p>` : ''} ${tenants.length === 0 ? html`<p>No tenants.</p>` : ''}
  ${tenants.map(
    (t) =>
      html`<section class="card" aria-labelledby="t-${t.id}">
        <h2 id="t-${t.id}">${t.name}</h2>
        <p>${t.platform} · <code>${t.externalId}</code></p>
        <p>
          Bot:
          ${t.bot.serviceUrl ? html`service URL <code>${t.bot.serviceUrl}</code> ` : ''}${t.bot.accountId ? html`account <code>${t.bot.accountId}</code> ` : ''}${
            t.platform === 'slack' ? (t.botTokenConfigured ? 'bot token stored (never shown)' : html`<span class="bad">no bot token</span>`) : ''
          }
        </p>
        ${table(
          `Admins of ${t.name}`,
          ['admin', 'email', 'test'],
          t.admins.map((a) => [
            a.displayName ?? a.userExternalId,
            a.email ?? '—',
            html`<form class="inline" method="post" action="/board/tenants/${t.id}/test-dm">
              ${csrfField(csrfToken)}<input type="hidden" name="admin" value="${a.userExternalId}" /><button type="submit">Send a test DM</button>
            </form>`,
          ]),
          'No admins: admin prompts reach nobody.',
        )}
      </section>`,
  )}
  ${nextCursor ? html`<p><a href="/board/tenants?cursor=${nextCursor}">Next page</a></p>` : ''}`;
}

export function webhooksBody(endpoints: { id: string; url: string; events: string[]; disabled: boolean; description: string | null; deliveries: DeliveryRow[] }[]): Html {
  if (endpoints.length === 0) return html`<p>No webhook endpoints.</p>`;
  return html`${endpoints.map(
    (e) =>
      html`<section class="card" aria-labelledby="w-${e.id}">
        <h2 id="w-${e.id}">${e.description ?? e.url}</h2>
        <p><code>${e.url}</code> · events ${e.events.join(', ')} · ${e.disabled ? html`<span class="bad">disabled</span>` : html`<span class="ok">enabled</span>`}</p>
        ${table(
          'Recent deliveries',
          ['event', 'type', 'status', 'attempts', 'last answer', 'last attempt'],
          e.deliveries.map((d) => [
            d.eventId.slice(0, 8),
            d.type,
            d.status,
            String(d.attempts),
            d.lastStatusCode ? String(d.lastStatusCode) : (d.lastError ?? '—'),
            when(d.lastAttemptAt),
          ]),
          'No deliveries yet.',
        )}
      </section>`,
  )}`;
}

import type { Platform } from '../config/app-config';
import type { BotMessage } from '../platforms/platform';
import type { Condition } from '../platforms/conditions';

/** What each prompt says: the platform, what happened in plain words, and exactly what to do. */

const NAME: Record<Platform, string> = { microsoft: 'Microsoft Teams', slack: 'Slack', webex: 'Webex', zoom: 'Zoom' };
const CONSOLE: Record<Platform, string> = {
  microsoft: 'the Microsoft Entra admin center',
  slack: 'your Slack workspace settings (Manage apps)',
  webex: 'Webex Control Hub',
  zoom: 'the Zoom App Marketplace (Manage > Added apps) and the Zoom admin portal',
};

interface ConditionText {
  happened: (p: Platform, who: string) => string;
  todo: (p: Platform) => string;
}

const TEXTS: Record<Condition, ConditionText> = {
  consent_required: {
    happened: (p, who) => `The chat bridge can no longer act for ${who} in ${NAME[p]}: consent for the app is missing or a required permission was removed.`,
    todo: (p) => `In ${CONSOLE[p]}, grant (admin) consent to the chat bridge app for all the permissions it requests.`,
  },
  conditional_access_blocked: {
    happened: (p, who) => `${NAME[p]} refuses to issue tokens for ${who}: a Conditional Access (or similar admin) policy blocks the chat bridge app.`,
    todo: (p) =>
      `In ${CONSOLE[p]}, review the Conditional Access / session policies that apply to the chat bridge app and allow it (for example exclude the app, or allow the locations and devices it signs in from).`,
  },
  app_disabled: {
    happened: (p) => `The chat bridge app is disabled or uninstalled in your ${NAME[p]} organisation, so no messages can cross platforms.`,
    todo: (p) => `In ${CONSOLE[p]}, enable (or reinstall) the chat bridge app for your organisation.`,
  },
  user_deleted: {
    happened: (p, who) => `${who} no longer exists in your ${NAME[p]} directory, so their messages cannot be relayed.`,
    todo: () => `If the account was deleted by mistake, restore it; otherwise remove this person from the chat bridge. No action is needed if the removal was intended.`,
  },
  user_disabled: {
    happened: (p, who) => `The ${NAME[p]} account of ${who} is disabled, so their messages cannot be relayed.`,
    todo: (p) => `If this is unexpected, re-enable the account in ${CONSOLE[p]}. The bridge resumes on its own once the account works again.`,
  },
  grant_revoked: {
    happened: (p) =>
      `Your ${NAME[p]} connection to the chat bridge stopped working: its access was revoked or expired (this happens, for example, after a password change or reset).`,
    todo: (p) => `Reconnect with the button below and sign in to ${NAME[p]}. It takes a minute; until then your messages do not cross platforms.`,
  },
  mfa_enrollment_required: {
    happened: (p) => `${NAME[p]} now requires multi-factor authentication for your account, so the chat bridge cannot renew its access.`,
    todo: (p) => `Reconnect with the button below: sign in to ${NAME[p]} and complete the multi-factor set-up when asked.`,
  },
  refresh_token_inactive: {
    happened: (p) => `Your ${NAME[p]} connection to the chat bridge expired because it was not used for a long time.`,
    todo: (p) => `Reconnect with the button below and sign in to ${NAME[p]} to resume relaying your messages.`,
  },
};

const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

export function initialPrompt(p: Platform, condition: Condition, who: string, resyncUrl?: string, reminder = false): BotMessage {
  const t = TEXTS[condition];
  return {
    title: `${reminder ? 'Reminder: ' : ''}${NAME[p]}: action needed for the chat bridge`,
    lines: [capitalise(t.happened(p, who)), t.todo(p)],
    ...(resyncUrl ? { action: { label: `Reconnect ${NAME[p]}`, url: resyncUrl } } : {}),
  };
}

export function adminConfirmation(p: Platform, condition: Condition, count: number): BotMessage {
  return {
    title: `${NAME[p]}: the chat bridge works again`,
    lines: [
      `${NAME[p]} issues tokens to the chat bridge again (${condition.replace(/_/g, ' ')} is resolved), so it is configured correctly.`,
      `${count} affected ${count === 1 ? 'connection was' : 'connections were'} refreshed. No further action is needed.`,
    ],
  };
}

export function userConfirmation(p: Platform): BotMessage {
  return { title: `${NAME[p]}: you are reconnected`, lines: [`Thank you. Your ${NAME[p]} connection works again and your messages cross platforms again.`] };
}

export function adminUserNote(p: Platform, who: string): BotMessage {
  return { title: `${NAME[p]}: a user reconnected`, lines: [`${who} reconnected their ${NAME[p]} account to the chat bridge; their token was refreshed. No action is needed.`] };
}

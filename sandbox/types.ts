/** Shared vocabulary of the sandbox: platforms, directory entries, failures and observations. */
export type SandboxPlatform = 'microsoft' | 'slack' | 'webex' | 'zoom';
export const PLATFORMS: readonly SandboxPlatform[] = ['microsoft', 'slack', 'webex', 'zoom'];

export interface UserInput {
  tenantExternalId: string;
  userExternalId: string;
  email?: string;
  displayName?: string;
}

export interface SandboxUser {
  tenantExternalId: string;
  userExternalId: string;
  email: string;
  displayName: string;
}

export interface GrantInput {
  tenantExternalId: string;
  userExternalId: string;
  scopes?: string[];
}

export interface MintedGrant {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  refreshTokenExpiresIn?: number;
}

export interface TokenLifetimes {
  accessTokenSeconds?: number;
  refreshTokenSeconds?: number;
}

/** An exact HTTP answer; a string body is sent as-is (e.g. an HTML 502 from a proxy). */
export interface StatusFailure {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export type Failure = StatusFailure | { delayMs: number } | { hang: true } | { reset: true };

export interface FailureSelector {
  userExternalId?: string;
  tenantExternalId?: string;
}

export interface ReuseEvent {
  userExternalId: string;
  tenantExternalId: string;
  at: Date;
}

export interface ReceivedMessage {
  platform: SandboxPlatform;
  recipient: string;
  text: string;
  links: string[];
  raw: unknown;
  at: Date;
}

export interface RevokedToken {
  token: string;
  userExternalId?: string;
  at: Date;
}

export interface TokenCallFilter {
  userExternalId?: string;
  grantType?: string;
}

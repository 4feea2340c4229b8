import { Injectable, Logger } from '@nestjs/common';
import { PLATFORMS, Platform } from '../../config/app-config';
import { ReadinessContributor } from '../../observability/readiness.service';
import { OAuthProviders } from '../../platforms/oauth-registry';

type ClientState = 'ok' | 'disabled' | 'misconfigured';

/**
 * Whether our own OAuth client of each platform works. A misconfigured client (expired
 * secret…) is an operator problem: readiness stays 200 (other platforms still work) and
 * lists `details.clients.<platform>: "misconfigured"`.
 */
@Injectable()
export class ClientHealth extends ReadinessContributor {
  private readonly log = new Logger('ClientHealth');
  private readonly misconfigured = new Map<Platform, string>();

  constructor(private readonly providers: OAuthProviders) {
    super();
    for (const p of providers.all()) if (!p.enabled) this.log.warn(`${p.platform}: no client credentials configured; the platform is disabled`);
  }

  state(platform: Platform): ClientState {
    const provider = this.providers.all().find((p) => p.platform === platform);
    if (!provider?.enabled) return 'disabled';
    return this.misconfigured.has(platform) ? 'misconfigured' : 'ok';
  }

  reportMisconfigured(platform: Platform, reason: string): void {
    if (!this.misconfigured.has(platform)) this.log.error(`${platform}: our OAuth client is refused (${reason}); fix its credentials`);
    this.misconfigured.set(platform, reason);
  }

  reportWorking(platform: Platform): void {
    if (this.misconfigured.delete(platform)) this.log.log(`${platform}: the OAuth client works again`);
  }

  contribute(details: Record<string, unknown>): Promise<boolean> {
    details.clients = Object.fromEntries(PLATFORMS.map((p) => [p, this.state(p)]));
    return Promise.resolve(true);
  }
}

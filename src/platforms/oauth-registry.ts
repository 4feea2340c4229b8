import { Injectable } from '@nestjs/common';
import type { Platform } from '../config/app-config';
import { AppError, ProblemCode } from '../common/problem';
import type { OAuthProvider } from './platform';

/** The OAuth adapters, one per platform: the four and PROVIDERS_FILE's. Filled in by PlatformsModule. */
@Injectable()
export class OAuthProviders {
  private readonly byPlatform = new Map<Platform, OAuthProvider>();

  constructor(providers: OAuthProvider[]) {
    for (const p of providers) this.byPlatform.set(p.platform, p);
  }

  /** Whether a platform of that name exists here (configured or not). */
  has(platform: Platform): boolean {
    return this.byPlatform.has(platform);
  }

  /** The provider of that name, configured or not. */
  find(platform: Platform): OAuthProvider | undefined {
    return this.byPlatform.get(platform);
  }

  all(): OAuthProvider[] {
    return [...this.byPlatform.values()];
  }

  /** The provider of an enabled platform; a disabled one is a client error. */
  get(platform: Platform): OAuthProvider {
    const provider = this.byPlatform.get(platform);
    if (!provider || !provider.enabled) throw new AppError(ProblemCode.Unprocessable, `The ${platform} platform is not configured on this service.`);
    return provider;
  }
}

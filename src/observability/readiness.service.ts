import { Injectable } from '@nestjs/common';
import { TypeOrmHealthIndicator } from '@nestjs/terminus';

export interface ReadinessReport {
  status: 'ok' | 'error';
  details: Record<string, unknown>;
}

/** A part of the service that has a say in readiness (the vault, the OAuth clients…). */
export abstract class ReadinessContributor {
  /**
   * Adds its entries to `details`; returns false when the service must not take traffic.
   * `operator`: the caller showed a `*` admin key, so internals (vault key ids) may be shown.
   */
  abstract contribute(details: Record<string, unknown>, operator: boolean): Promise<boolean>;
}

const DB_TIMEOUT_MS = 3000;

/**
 * Readiness in the shape SPEC §5 fixes: `details.database` is `"up"` or `"down"`, and each
 * contributor adds its own keys. Answers within ~3 s even when PostgreSQL is away.
 */
@Injectable()
export class ReadinessService {
  private readonly contributors: ReadinessContributor[] = [];

  constructor(private readonly db: TypeOrmHealthIndicator) {}

  register(contributor: ReadinessContributor): void {
    this.contributors.push(contributor);
  }

  async check(operator = false): Promise<ReadinessReport> {
    const details: Record<string, unknown> = {};
    const database = await Promise.resolve(this.db.pingCheck('database').withTimeout(DB_TIMEOUT_MS)).then(
      (r) => r.database.status === 'up',
      () => false,
    );
    details.database = database ? 'up' : 'down';
    let ok = database;
    for (const c of this.contributors) ok = (await c.contribute(details, operator)) && ok;
    return { status: ok ? 'ok' : 'error', details };
  }
}

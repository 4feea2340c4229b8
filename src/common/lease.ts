import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** A lease owner names its host and process: `host:pid:random`. */
export function newLeaseOwner(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/**
 * Owners among `owners` that were processes of this host that are gone (a crash). Their
 * leases can be taken back at once instead of waiting for them to expire.
 */
export function deadLocalOwners(owners: readonly string[]): string[] {
  const host = hostname();
  return owners.filter((owner) => {
    const [h, pidText] = owner.split(':');
    const pid = Number(pidText);
    if (h !== host || !Number.isInteger(pid) || pid === process.pid) return false;
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  });
}

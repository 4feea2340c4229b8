/**
 * `npm run sandbox`: start every fake platform, and the generic OpenID Provider (`acme`, SPEC
 * §13), and print the environment that points the service at them. The OP registers the
 * redirect URI of SANDBOX_SERVICE_URL (default http://localhost:3000, the service's default).
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startSandbox } from './index';
import { providerEntry, startOidcProvider } from './oidc';

async function main(): Promise<void> {
  const started = Date.now();
  // Fixed ports by default so the printed exports survive a sandbox restart (credentials do not).
  const basePort = Number(process.env.SANDBOX_BASE_PORT ?? '4101');
  const sandbox = await startSandbox({ basePort });
  const op = await startOidcProvider({ port: basePort + 4 });
  const service = (process.env.SANDBOX_SERVICE_URL ?? 'http://localhost:3000').replace(/\/+$/, '');
  op.configure((name) => `${service}/oauth/${name}/callback`);
  const providersFile = path.join(tmpdir(), `autoheal-sandbox-providers-${basePort}.json`);
  writeFileSync(providersFile, JSON.stringify({ providers: [providerEntry(op)] }, null, 2));
  const env = { ...sandbox.env, PROVIDERS_FILE: providersFile, ACME_CLIENT_SECRET: op.clientSecret };
  const lines = Object.entries(env).map(([k, v]) => `export ${k}='${v}'`);
  process.stdout.write(`# Auto Heal sandbox ready in ${Date.now() - started} ms; control API: <any url below>/_sandbox/...\n`);
  process.stdout.write(`${lines.join('\n')}\n`);
  const stop = (): void => {
    void Promise.all([sandbox.close(), op.close()]).then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`sandbox failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

/** `npm run sandbox`: start every fake platform and print the environment that points the service at it. */
import { startSandbox } from './index';

async function main(): Promise<void> {
  const started = Date.now();
  // Fixed ports by default so the printed exports survive a sandbox restart (credentials do not).
  const basePort = Number(process.env.SANDBOX_BASE_PORT ?? '4101');
  const sandbox = await startSandbox({ basePort });
  const lines = Object.entries(sandbox.env).map(([k, v]) => `export ${k}='${v}'`);
  process.stdout.write(`# Auto Heal sandbox ready in ${Date.now() - started} ms; control API: <any url below>/_sandbox/...\n`);
  process.stdout.write(`${lines.join('\n')}\n`);
  const stop = (): void => {
    void sandbox.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`sandbox failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

/**
 * Runs one autocannon load in its own process for `bench:token-read`, so the server process's
 * CPU time (`process.cpuUsage()`) is the servers' alone: the load generator's parsing neither
 * shares their event loop nor their CPU count. Takes autocannon's options on IPC and answers
 * with its result.
 */
import autocannon from 'autocannon';

process.once('message', (options: autocannon.Options) => {
  autocannon(options, (error: Error | null, result) => {
    process.send?.(error ? { error: error.message } : { result }, () => process.exit(0));
  });
});

/**
 * An open-loop load for `bench:token-read`, in its own process: requests start on a fixed
 * schedule (`rate` a second, evenly spaced) whatever the answers' pace, over kept-alive
 * sockets, and each latency is counted from the request's scheduled start, so a slow answer
 * that delays the next send shows in the figures (no coordinated omission).
 *
 * Why not autocannon's `overallRate`: autocannon gives each connection a quota per second,
 * sends it back to back as answers come, then pauses until the next second. The load arrives
 * as a burst at the start of every second (a closed loop for the first few hundred ms), and
 * its latencies are "corrected" with a 1 ms expected interval, so p99 measured the burst, not
 * the server: the empty NestJS route showed p99 95 ms at 2,000/s with the CPU 70 % idle.
 */
import { appendFileSync } from 'node:fs';
import http from 'node:http';

export interface OpenLoopOrder {
  url: string;
  requests: { path: string; headers: Record<string, string>; body: string }[];
  rate: number;
  seconds: number;
  /**
   * Sent on the same schedule first, not timed: each run is a new process opening new sockets,
   * and its first second (connects, the generator's own JIT) was most of every side's p99.
   */
  warmupSeconds: number;
  /** At most this many requests in flight (sockets); later ones wait for a socket, and that wait counts. */
  sockets: number;
}

export interface OpenLoopResult {
  /** Every request, the warm-up's too (they are served and audited like the rest). */
  sent: number;
  ok: number;
  bad: number;
  errors: number;
  seconds: number;
  /** Requests started a second, over the whole run. */
  rate: number;
  /** Latencies of the timed part only. */
  p50: number;
  p99: number;
  p999: number;
  max: number;
  /** p99 of how late this generator started requests after their slot (its own share of the tail). */
  lateP99: number;
}

function run(order: OpenLoopOrder): Promise<OpenLoopResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: order.sockets });
  const target = new URL(order.url);
  const total = Math.round(order.rate * (order.warmupSeconds + order.seconds));
  const intervalMs = 1000 / order.rate;
  const latencies: number[] = [];
  const late: number[] = [];
  let [sent, ok, bad, errors, done] = [0, 0, 0, 0, 0];
  const started = performance.now();
  const timedFrom = started + order.warmupSeconds * 1000;
  // OPEN_LOOP_TRACE=<file> (a diagnostic): each request's slot (ms from the start) and latency, for finding a tail's period.
  const trace = process.env.OPEN_LOOP_TRACE ? ([] as string[]) : undefined;
  return new Promise((resolve) => {
    const finish = () => {
      if (++done < total) return;
      agent.destroy();
      if (trace) appendFileSync(`${process.env.OPEN_LOOP_TRACE}.${process.pid}`, trace.join('\n') + '\n');
      const at = (xs: number[], q: number) => Math.round(xs[Math.min(xs.length - 1, Math.floor(q * xs.length))] * 100) / 100;
      latencies.sort((a, b) => a - b);
      late.sort((a, b) => a - b);
      const [p50, p99, p999, max] = [0.5, 0.99, 0.999, 1].map((q) => at(latencies, q));
      const seconds = (performance.now() - started) / 1000;
      resolve({ sent, ok, bad, errors, seconds, rate: sent / seconds, p50, p99, p999, max, lateP99: at(late, 0.99) });
    };
    const send = (scheduledAt: number) => {
      const timed = scheduledAt >= timedFrom;
      if (timed) late.push(performance.now() - scheduledAt);
      const r = order.requests[sent++ % order.requests.length];
      const request = http.request(
        { host: target.hostname, port: target.port, path: r.path, method: 'POST', agent, headers: { ...r.headers, 'content-length': Buffer.byteLength(r.body) } },
        (answer) => {
          answer.resume();
          answer.on('end', () => {
            if (timed) latencies.push(performance.now() - scheduledAt);
            trace?.push(`${(scheduledAt - started).toFixed(1)} ${(performance.now() - scheduledAt).toFixed(2)}`);
            if (answer.statusCode && answer.statusCode >= 200 && answer.statusCode < 300) ok++;
            else bad++;
            finish();
          });
        },
      );
      request.on('socket', (socket) => socket.setNoDelay(true));
      request.on('error', () => {
        errors++;
        finish();
      });
      request.end(r.body);
    };
    // Timers fire at ms granularity: each tick starts every request whose time has come, timed from its own slot.
    const tick = () => {
      const now = performance.now();
      while (sent < total && started + sent * intervalMs <= now) send(started + sent * intervalMs);
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
}

if (require.main === module) {
  process.once('message', (order: OpenLoopOrder) => {
    run(order).then(
      (result) => process.send?.({ result }, () => process.exit(0)),
      (e: Error) => process.send?.({ error: e.message }, () => process.exit(0)),
    );
  });
}

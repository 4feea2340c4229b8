/**
 * A relay in its own process for `bench:heal-storm`: token calls through the real API over
 * `node:http` with kept-alive sockets, a fixed number in flight, each connection called until
 * it gives the answer the run expects (a 503, 429 or a dropped socket is retried after its
 * Retry-After, as a relay would, and counted); and the relay's webhook receiver on 127.0.0.1,
 * which answers 204 at once and checks each Standard Webhooks signature. Driven over IPC.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Agent, createServer, request } from 'node:http';

export interface LoadOrder {
  url: string;
  key: string;
  ids: string[];
  inFlight: number;
  /** 200 (refreshes succeed) or 409 (every grant is broken). */
  expect: number;
}

export interface LoadResult {
  firstAt: number;
  lastAt: number;
  /** Final answers by status (one per connection). */
  answers: Record<string, number>;
  /** Answers that were retried, by status (`error` for a failed socket). */
  retried: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** A sample of unexpected final answers. */
  unexpected: string[];
}

export interface Deliveries {
  /** Distinct `webhook-id` values of `connection.broken` events, with a valid signature. */
  distinct: number;
  /** Every POST received (duplicates included). */
  received: number;
  badSignature: number;
  /** Distinct connections the events named. */
  connections: number;
  firstAt?: number;
  lastAt?: number;
}

export type ToRelay = { load: LoadOrder } | { secret: string } | { deliveries: true };
export type FromRelay = { receiver: string } | { loaded: LoadResult } | { deliveries: Deliveries };

const MAX_TRIES = 50;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function post(agent: Agent, url: URL, key: string): Promise<{ status: number; retryAfter: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': '2' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: Number(res.headers['retry-after'] ?? 0), body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end('{}');
  });
}

async function load(order: LoadOrder): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: order.inFlight });
  const answers: Record<string, number> = {};
  const retried: Record<string, number> = {};
  const latencies: number[] = [];
  const unexpected: string[] = [];
  let next = 0;
  let lastAt = 0;
  const firstAt = Date.now();
  const worker = async () => {
    while (next < order.ids.length) {
      const id = order.ids[next++];
      const url = new URL(`${order.url}/v1/connections/${id}/access-token`);
      for (let tries = 1; ; tries++) {
        const started = Date.now();
        const answer = await post(agent, url, order.key).catch((e: Error) => ({ status: 0, retryAfter: 0, body: e.message }));
        const retry = answer.status === 0 || answer.status === 503 || answer.status === 429;
        if (retry && tries < MAX_TRIES) {
          retried[answer.status || 'error'] = (retried[answer.status || 'error'] ?? 0) + 1;
          await sleep(Math.min(60, Math.max(answer.retryAfter, 0.1)) * 1000);
          continue;
        }
        lastAt = Date.now();
        latencies.push(lastAt - started);
        answers[answer.status] = (answers[answer.status] ?? 0) + 1;
        if (answer.status !== order.expect && unexpected.length < 5) unexpected.push(`${answer.status} ${answer.body.slice(0, 300)}`);
        break;
      }
    }
  };
  await Promise.all(Array.from({ length: order.inFlight }, worker));
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { firstAt, lastAt, answers, retried, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1), unexpected };
}

/** Standard Webhooks: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` under any live secret. */
function signed(secret: Buffer | undefined, id: string, timestamp: string, body: Buffer, header: string): boolean {
  if (!secret) return false;
  const expected = createHmac('sha256', secret).update(`${id}.${timestamp}.`).update(body).digest();
  return header.split(' ').some((s) => {
    const [version, sig] = s.split(',');
    const given = Buffer.from(sig ?? '', 'base64');
    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

function main(): void {
  let secret: Buffer | undefined;
  const ids = new Set<string>();
  const connections = new Set<string>();
  const seen: Deliveries = { distinct: 0, received: 0, badSignature: 0, connections: 0 };
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(204).end();
      seen.received++;
      const body = Buffer.concat(chunks);
      const header = (name: string) => String(req.headers[name] ?? '');
      const id = header('webhook-id');
      if (!signed(secret, id, header('webhook-timestamp'), body, header('webhook-signature'))) return void seen.badSignature++;
      const event = JSON.parse(body.toString()) as { type?: string; data?: { connectionId?: string } };
      if (event.type !== 'connection.broken' || ids.has(id)) return;
      ids.add(id);
      if (event.data?.connectionId) connections.add(event.data.connectionId);
      seen.firstAt ??= Date.now();
      seen.lastAt = Date.now();
    });
  });
  receiver.keepAliveTimeout = 30_000;
  receiver.listen(0, '127.0.0.1', () => {
    const address = receiver.address();
    process.send?.({ receiver: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hooks` } satisfies FromRelay);
  });
  process.on('message', (m: ToRelay) => {
    if ('secret' in m) secret = Buffer.from(m.secret.replace(/^whsec_/, ''), 'base64');
    else if ('deliveries' in m) process.send?.({ deliveries: { ...seen, distinct: ids.size, connections: connections.size } } satisfies FromRelay);
    else void load(m.load).then((loaded) => process.send?.({ loaded } satisfies FromRelay));
  });
  process.on('disconnect', () => process.exit(0));
}

if (process.argv.includes('--child')) main();

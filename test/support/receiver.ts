import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One POST as the receiver got it: the raw body and the Standard Webhooks headers. */
export interface Received {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  headers: IncomingHttpHeaders;
  at: number;
  /** What this receiver answered it. */
  answered: number | 'hang';
}

/** How the receiver answers the next POST: a status (and headers), or never. */
export type Answer = { status: number; headers?: Record<string, string> } | 'hang';

/**
 * A webhook consumer on 127.0.0.1, as a relay would run one. It records every POST and
 * answers what the test scripts (200 by default). `verify` checks a delivery the way a
 * consumer does, with the `standardwebhooks` library.
 */
export class Receiver {
  readonly received: Received[] = [];
  private script: Answer[] = [];
  private fallback: Answer = { status: 200 };
  private readonly hung = new Set<() => void>();
  private server!: Server;
  url = '';

  static async start(path = '/hooks'): Promise<Receiver> {
    const r = new Receiver();
    r.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const answer = r.script.shift() ?? r.fallback;
        const h = req.headers;
        r.received.push({
          id: String(h['webhook-id']),
          timestamp: String(h['webhook-timestamp']),
          signature: String(h['webhook-signature']),
          body: Buffer.concat(chunks).toString(),
          headers: h,
          at: Date.now(),
          answered: answer === 'hang' ? 'hang' : answer.status,
        });
        if (answer === 'hang') {
          const release = () => res.destroy();
          r.hung.add(release);
          res.on('close', () => r.hung.delete(release));
          return;
        }
        res.writeHead(answer.status, answer.headers ?? {}).end();
      });
    });
    await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
    r.url = `http://127.0.0.1:${(r.server.address() as AddressInfo).port}${path}`;
    return r;
  }

  /** The next answers, in order; then `fallback` for the rest. */
  answer(...answers: Answer[]): this {
    this.script.push(...answers);
    return this;
  }

  always(answer: Answer): this {
    this.fallback = answer;
    return this;
  }

  /** The deliveries this receiver accepted (answered 2xx). */
  accepted(): Received[] {
    return this.received.filter((r) => typeof r.answered === 'number' && r.answered >= 200 && r.answered < 300);
  }

  /** The parsed event of a delivery, verified as a consumer verifies it; throws when the signature is wrong. */
  static verify(secret: string, r: Received): { id: string; type: string; createdAt: string; tenantId: string | null; data: Record<string, unknown> } {
    return new Webhook(secret).verify(r.body, {
      'webhook-id': r.id,
      'webhook-timestamp': r.timestamp,
      'webhook-signature': r.signature,
    }) as ReturnType<typeof Receiver.verify>;
  }

  async close(): Promise<void> {
    for (const release of this.hung) release();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

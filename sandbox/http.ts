/** Plain node:http plumbing shared by every fake platform: parsing, answering, failures. */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo, Socket } from 'node:net';
import { isRecord } from '../src/common/is-record';
import { Failure, StatusFailure } from './types';

export interface Req {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** Form or JSON body flattened to strings (what OAuth endpoints read). */
  form: Record<string, string>;
  /** The parsed JSON body, when the request sent JSON. */
  json: unknown;
  raw: IncomingMessage;
}

export type Handler = (req: Req, res: ServerResponse) => Promise<boolean>;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// The service's own reading of a JSON object, so the fakes and the adapters agree on it.
export { isRecord };

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(text: string, contentType: string): { form: Record<string, string>; json: unknown } {
  const form: Record<string, string> = {};
  if (text === '') return { form, json: undefined };
  if (contentType.includes('application/json')) {
    // A malformed JSON body is the caller's bug; treat it as empty so the platform answers its own error.
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { form, json: undefined };
    }
    if (isRecord(json)) {
      for (const [k, v] of Object.entries(json)) {
        if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') form[k] = String(v);
      }
    }
    return { form, json };
  }
  for (const [k, v] of new URLSearchParams(text)) form[k] = v;
  return { form, json: undefined };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const contentType = typeof body === 'string' ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8';
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store', ...headers });
  res.end(text);
}

export function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { location, 'cache-control': 'no-store' });
  res.end();
}

export function isStatusFailure(failure: Failure): failure is StatusFailure {
  return 'status' in failure;
}

/**
 * Plays an injected failure. Returns true when the response is settled (answered, hung or reset)
 * and false when the failure was only a delay and the caller should now answer normally.
 */
export async function playFailure(res: ServerResponse, failure: Failure): Promise<boolean> {
  if (isStatusFailure(failure)) {
    sendJson(res, failure.status, failure.body, failure.headers);
    return true;
  }
  if ('delayMs' in failure) {
    await sleep(failure.delayMs);
    return false;
  }
  if ('reset' in failure) {
    res.socket?.destroy();
    return true;
  }
  // hang: leave the socket open; SandboxServer.close() destroys it.
  return true;
}

export function basicAuth(req: Req): { id: string; secret: string } | undefined {
  const header = req.headers.authorization ?? '';
  if (!header.toLowerCase().startsWith('basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
}

export function bearer(req: Req): string | undefined {
  const header = req.headers.authorization ?? '';
  return header.toLowerCase().startsWith('bearer ') ? header.slice(7).trim() : undefined;
}

export interface SandboxServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startServer(handlers: Handler[], port = 0): Promise<SandboxServer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((raw, res) => {
    void dispatch(handlers, raw, res);
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        // Hung requests would keep close() waiting forever; they are ours to cut.
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

async function dispatch(handlers: Handler[], raw: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const url = new URL(raw.url ?? '/', 'http://127.0.0.1');
    const { form, json } = parseBody(await readBody(raw), String(raw.headers['content-type'] ?? ''));
    const req: Req = { method: raw.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: raw.headers, form, json, raw };
    for (const handler of handlers) {
      if (await handler(req, res)) return;
    }
    sendJson(res, 404, { error: 'not_found', message: `sandbox: no route for ${req.method} ${req.path}` });
  } catch (error: unknown) {
    // A sandbox bug must be loud in tests rather than look like a platform answer.
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    if (!res.headersSent) sendJson(res, 500, { error: 'sandbox_internal_error', message });
    else res.destroy();
  }
}

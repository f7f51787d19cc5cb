import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RpcRequest {
  readonly method: string;
  readonly params: readonly unknown[];
}

/** What the proxy does with the n-th request: pass it on, or answer it itself. */
export type RpcPolicy = (request: RpcRequest, n: number) => 'forward' | { status: number; body: unknown };

/**
 * A JSON-RPC proxy on loopback in front of a real node, misbehaving as the policy says: an RPC
 * that errors, refuses large ranges, or lies, without touching the chain behind it.
 */
export class RpcProxy {
  private server: Server | undefined;
  requests = 0;

  constructor(
    private readonly upstream: string,
    public policy: RpcPolicy = () => 'forward',
  ) {}

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        void this.answer(Buffer.concat(chunks).toString('utf8')).then(({ status, body }) => {
          response.writeHead(status, { 'content-type': 'application/json' });
          response.end(body);
        });
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private async answer(text: string): Promise<{ status: number; body: string }> {
    const request = JSON.parse(text) as RpcRequest & { id: number };
    this.requests += 1;
    const decision = this.policy(request, this.requests);
    if (decision !== 'forward') {
      const body = typeof decision.body === 'object' && decision.body !== null ? { jsonrpc: '2.0', id: request.id, ...decision.body } : decision.body;
      return { status: decision.status, body: JSON.stringify(body) };
    }
    const upstream = await fetch(this.upstream, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
    return { status: upstream.status, body: await upstream.text() };
  }
}

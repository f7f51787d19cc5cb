import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RpcRequest {
  readonly method: string;
  readonly params: readonly unknown[];
}

/**
 * A faulty RPC's misbehaviour, each as a real one shows it:
 * - `status`: an HTTP error status (503, 502, ...) with a plain-text body;
 * - `rpc-error`: a JSON-RPC error answer (-32603 internal error, say) in a 200;
 * - `reset`: the connection closed with no answer;
 * - `garbage`: a 200 JSON answer whose body does not parse;
 * - `stall`: no answer for `ms`, then the connection closed;
 * - `lose-answer`: the request reaches the chain (a transaction is sent) but its answer is
 *   lost (the connection closed instead).
 */
export type RpcFault =
  | { readonly fault: 'status'; readonly status: number }
  | { readonly fault: 'rpc-error'; readonly code: number; readonly message: string }
  | { readonly fault: 'reset' }
  | { readonly fault: 'garbage' }
  | { readonly fault: 'stall'; readonly ms: number }
  | { readonly fault: 'lose-answer' };

/** What the proxy does with the n-th request: pass it on, answer it itself, or misbehave. */
export type RpcPolicy = (request: RpcRequest, n: number) => 'forward' | { status: number; body: unknown } | RpcFault;

/** The faults of a real flaky RPC, one of each: what `alternatingFaults` rotates through by default. */
export const FLAKY_RPC_FAULTS: readonly RpcFault[] = [
  { fault: 'status', status: 503 },
  { fault: 'rpc-error', code: -32603, message: 'Internal error' },
  { fault: 'reset' },
  { fault: 'garbage' },
];

/** Every other request answered with the next of `faults` in turn; the rest passed on. */
export function alternatingFaults(faults: readonly RpcFault[] = FLAKY_RPC_FAULTS): RpcPolicy {
  return (_request, n) => (n % 2 === 1 ? 'forward' : (faults[(n / 2 - 1) % faults.length] ?? 'forward'));
}

/**
 * A JSON-RPC proxy on loopback in front of a real node, misbehaving as the policy says: an RPC
 * that errors, refuses large ranges, lies, resets, stalls or answers garbage, without touching
 * the chain behind it. `faults` counts what it injected, by kind.
 */
export class RpcProxy {
  private server: Server | undefined;
  private readonly stalls = new Set<NodeJS.Timeout>();
  requests = 0;
  readonly faults = new Map<RpcFault['fault'], number>();

  constructor(
    private readonly upstream: string,
    public policy: RpcPolicy = () => 'forward',
  ) {}

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.answer(request, response, Buffer.concat(chunks).toString('utf8')).catch(() => request.socket.destroy());
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const stall of this.stalls) clearTimeout(stall);
    this.stalls.clear();
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  /** How many faults of every kind it injected. */
  injected(): number {
    return [...this.faults.values()].reduce((sum, n) => sum + n, 0);
  }

  private async answer(request: IncomingMessage, response: ServerResponse, text: string): Promise<void> {
    const call = JSON.parse(text) as RpcRequest & { id: number };
    this.requests += 1;
    const decision = this.policy(call, this.requests);
    const send = (status: number, body: string, type = 'application/json') => {
      response.writeHead(status, { 'content-type': type });
      response.end(body);
    };
    if (decision === 'forward') {
      const upstream = await this.forward(text);
      return send(upstream.status, upstream.body);
    }
    if (!('fault' in decision)) {
      const body = typeof decision.body === 'object' && decision.body !== null ? { jsonrpc: '2.0', id: call.id, ...decision.body } : decision.body;
      return send(decision.status, JSON.stringify(body));
    }
    this.faults.set(decision.fault, (this.faults.get(decision.fault) ?? 0) + 1);
    switch (decision.fault) {
      case 'status':
        return send(decision.status, 'Service Unavailable', 'text/plain');
      case 'rpc-error':
        return send(200, JSON.stringify({ jsonrpc: '2.0', id: call.id, error: { code: decision.code, message: decision.message } }));
      case 'garbage':
        return send(200, '<html><body>502 Bad Gateway</body></html>{"jsonrpc":"2.0","id":');
      case 'reset':
        request.socket.destroy();
        return;
      case 'stall': {
        const stall = setTimeout(() => {
          this.stalls.delete(stall);
          request.socket.destroy();
        }, decision.ms);
        this.stalls.add(stall);
        return;
      }
      case 'lose-answer':
        await this.forward(text);
        request.socket.destroy();
        return;
    }
  }

  private async forward(text: string): Promise<{ status: number; body: string }> {
    const upstream = await fetch(this.upstream, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
    return { status: upstream.status, body: await upstream.text() };
  }
}

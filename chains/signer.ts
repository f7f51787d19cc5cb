import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  defineChain,
  encodeFunctionData,
  ExecutionRevertedError,
  HttpRequestError,
  RpcRequestError,
  TimeoutError,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type ContractFunctionArgs,
  type ContractFunctionName,
  type Hex,
  type PublicClient,
  type SimulateContractParameters,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
} from 'viem';
import { getContractError } from 'viem/utils';
import { RelayerError } from '../relayer/errors.js';
import { sharedErrorAbi } from './protocol/abi.js';
import { MemoryNonceStore, type NonceStore } from './nonce-store.js';
import { rpcTransport } from './rpc-transport.js';
import { DEFAULT_SENDER_SETTINGS, NONCE_TAKEN, TxSender, type SenderSettings } from './tx-sender.js';

/** An EVM chain as the node addresses it. */
export interface ChainEndpoint {
  readonly chainId: number;
  readonly rpcUrl: string;
  /** Every RPC URL of the chain, in order, tried one after the other on a failure; absent: `rpcUrl` alone. */
  readonly rpcUrls?: readonly string[];
  readonly name?: string;
  /** No answer from an RPC within this many ms is a timeout, retried (default 10 s). */
  readonly timeoutMs?: number;
}

export function viemChain(endpoint: ChainEndpoint): Chain {
  return defineChain({
    id: endpoint.chainId,
    name: endpoint.name ?? `chain-${endpoint.chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [...(endpoint.rpcUrls ?? [endpoint.rpcUrl])] } },
  });
}

/**
 * The signer's transport: a failed request is retried at once on the next URL, and after a
 * short backoff (1, 2, 4, ... 32 ms) on the same one: the chain's write queue waits on every
 * call, and an RPC that fails every other call must not slow it down much. One that keeps
 * failing is then retried by `write` with a longer backoff, and then by the job.
 */
function signerTransport(endpoint: ChainEndpoint): Transport {
  return rpcTransport({
    chainId: endpoint.chainId,
    rpcUrls: endpoint.rpcUrls ?? [endpoint.rpcUrl],
    retries: 6,
    retryDelayMs: 1,
    ...(endpoint.timeoutMs === undefined ? {} : { timeoutMs: endpoint.timeoutMs }),
  });
}

/** What a simulation hands on to sending: the call and its value, gas and fee fields. */
interface SimulatedRequest {
  readonly abi: Abi;
  readonly functionName: string;
  readonly args?: readonly unknown[];
  readonly address: Address;
  readonly dataSuffix?: Hex;
  readonly blockTag?: unknown;
  readonly account?: unknown;
  readonly [field: string]: unknown;
}

type WriteParameters<
  abi extends Abi,
  functionName extends ContractFunctionName<abi, 'nonpayable' | 'payable'>,
  args extends ContractFunctionArgs<abi, 'nonpayable' | 'payable', functionName>,
> = SimulateContractParameters<abi, functionName, args, Chain, undefined, undefined>;

const stringify = (value: unknown): string => (typeof value === 'bigint' ? value.toString() : JSON.stringify(value));

/** A decoded custom error as one line: `Name(arg, arg)`. */
export function errorCall(errorName: string, args: readonly unknown[] = []): string {
  return `${errorName}(${args.map(stringify).join(', ')})`;
}

/**
 * Why a call failed, in one line: the decoded custom error with its arguments or the revert
 * reason when the contract gave one; for a failure of the RPC rather than the contract, what
 * the RPC did (`RPC error -32603: ...`, `HTTP 503 from the RPC`, ...); else the short message.
 */
export function shortReason(error: unknown): string {
  if (!(error instanceof BaseError)) return error instanceof Error ? (error.message.split('\n')[0] ?? error.name) : String(error);
  const reverted = revertOf(error);
  if (reverted?.data) return `reverted with ${errorCall(reverted.data.errorName, reverted.data.args)}`;
  if (reverted?.reason) return `reverted: ${reverted.reason}`;
  if (reverted?.signature) return `reverted with unknown error ${reverted.signature}`;
  if (reverted) return 'reverted';
  return rpcFailure(error) ?? error.shortMessage;
}

/**
 * Whether a failure is the contract refusing (an execution revert: the same call will be
 * refused again), as opposed to the network or the RPC failing (worth retrying). viem reads a
 * JSON-RPC internal error (-32603) of a contract call as a revert whose reason is the RPC's
 * message; that is no refusal. A revert is one whose data decodes against the contract's ABI,
 * or an execution-reverted error (code 3, or a node's "execution reverted") carrying revert data.
 */
export function isRevert(error: unknown): boolean {
  return revertOf(error) !== undefined;
}

/**
 * The custom error a call reverted with (`LegExpired` and its arguments, say), when the caller's
 * ABI knows it: what a caller decides on, since the message around it is for people.
 */
export function revertError(error: unknown): { readonly name: string; readonly args: readonly unknown[] } | undefined {
  const data = revertOf(error)?.data;
  return data ? { name: data.errorName, args: data.args ?? [] } : undefined;
}

/** The execution revert somewhere in an error's cause chain (our errors wrap viem's). */
function revertOf(error: unknown): ContractFunctionRevertedError | undefined {
  let current: unknown = error;
  while (current instanceof Error) {
    const reverted = current instanceof BaseError ? current.walk((e) => e instanceof ContractFunctionRevertedError) : null;
    if (reverted instanceof ContractFunctionRevertedError) return isExecutionRevert(reverted) ? reverted : undefined;
    current = current.cause;
  }
  return undefined;
}

function isExecutionRevert(reverted: ContractFunctionRevertedError): boolean {
  if (reverted.data !== undefined) return true;
  const revertData = typeof reverted.raw === 'string' && /^0x[0-9a-fA-F]{8,}$/.test(reverted.raw);
  const executionReverted = reverted.walk((e) => (e as { code?: unknown }).code === ExecutionRevertedError.code || (e instanceof Error && ExecutionRevertedError.nodeMessage.test(e.message)));
  return revertData && executionReverted !== null;
}

/** What the RPC did, when a failure is the RPC's (an error answer, a status, no answer), in one line. */
function rpcFailure(error: unknown): string | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const timeout = error.walk((e) => e instanceof TimeoutError);
  if (timeout) return 'the RPC did not answer in time';
  const rpc = error.walk((e) => typeof (e as { code?: unknown }).code === 'number' && e instanceof BaseError) as (BaseError & { code: number }) | null;
  if (rpc) return `RPC error ${rpc.code}: ${rpc.details || rpc.shortMessage}`;
  const http = error.walk((e) => e instanceof HttpRequestError) as HttpRequestError | null;
  if (!http) return undefined;
  if (http.status) return `HTTP ${http.status} from the RPC`;
  const cause = http.cause instanceof Error ? http.cause : undefined;
  if (cause instanceof SyntaxError) return `the RPC answered something that is not JSON (${cause.message})`;
  const reason = cause?.cause instanceof Error ? cause.cause.message : cause?.message;
  return `no answer from the RPC${reason ? ` (${reason})` : ''}`;
}

/**
 * A failure after which the transaction may or may not have reached the node (no answer, a
 * reset, a timeout, a server error): the same signed transaction is sent again, never a new one.
 */
export function answerLost(error: unknown): boolean {
  if (!(error instanceof BaseError)) return false;
  const status = (error.walk((e) => e instanceof HttpRequestError || e instanceof RpcRequestError) as { status?: number } | null)?.status;
  if (status !== undefined && (status >= 500 || status === 429 || status === 408)) return true;
  const rpc = error.walk((e) => typeof (e as { code?: unknown }).code === 'number') as { code: number } | null;
  if (rpc) return LOST_ANSWER_CODES.includes(rpc.code);
  return error.walk((e) => e instanceof HttpRequestError || e instanceof TimeoutError) !== null;
}

/** JSON-RPC errors of the server rather than of the transaction: internal error, limit exceeded, rate limited, unknown. */
const LOST_ANSWER_CODES: readonly number[] = [-32603, -32005, 429, -1];

/**
 * Runs one step of a write again when it fails for any reason but a revert (the RPC failing,
 * an answer that does not parse), up to WRITE_ATTEMPTS times with a short backoff; the last
 * failure is thrown.
 */
export async function retried<T>(step: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await step();
    } catch (error) {
      if (isRevert(error) || attempt >= WRITE_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** (attempt - 1)));
    }
  }
}

/** Attempts of each step of a write (simulation; signing, sending and the receipt) when the RPC fails. */
const WRITE_ATTEMPTS = 4;

/** How a signer sends: where its nonce is held (in memory unless told), and when to replace. */
export interface SignerOptions {
  readonly nonces?: NonceStore;
  readonly sender?: SenderSettings;
}

/**
 * One account on one chain. Its transactions go out in order (one nonce sequence), pipelined
 * (chains/tx-sender.ts: the next is sent before the last is mined), each simulated first
 * (against the pending block, where it will land) so that a revert is reported with its reason
 * instead of being mined; a failure names `contract.method on chain` and the revert decoded by
 * name (see `write`). Reads and writes fail over across the endpoint's `rpcUrls`.
 */
export class Signer {
  readonly public: PublicClient<Transport, Chain>;
  readonly wallet: WalletClient<Transport, Chain, Account>;
  readonly chainId: number;
  /** Sends, replaces and tracks the transactions of a local account (absent: the node signs). */
  readonly sender: TxSender | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly endpoint: ChainEndpoint,
    readonly account: Account,
    options: SignerOptions = {},
  ) {
    this.chainId = endpoint.chainId;
    const chain = viemChain(endpoint);
    // Devnet blocks come fast: poll often so receipts are seen within milliseconds.
    const pollMs = 50;
    this.public = createPublicClient({ chain, transport: signerTransport(endpoint), pollingInterval: pollMs });
    this.wallet = createWalletClient({ account, chain, transport: signerTransport(endpoint) });
    this.sender =
      account.type === 'local' ? new TxSender(this.public, this.wallet, account, options.nonces ?? new MemoryNonceStore(), options.sender ?? DEFAULT_SENDER_SETTINGS, pollMs) : undefined;
  }

  get address(): Address {
    return this.account.address;
  }

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Simulates, signs, sends and waits for the receipt of a contract call. A revert throws at
   * once (not retryable); a failure of the RPC is retried, each step up to WRITE_ATTEMPTS times,
   * and what is thrown in the end says it is retryable. Once signed, the transaction is the
   * same one on every attempt: one whose answer was lost is sent again, never a second one.
   */
  write<
    const abi extends Abi,
    functionName extends ContractFunctionName<abi, 'nonpayable' | 'payable'>,
    const args extends ContractFunctionArgs<abi, 'nonpayable' | 'payable', functionName>,
  >(params: WriteParameters<abi, functionName, args> & { label?: string }): Promise<TransactionReceipt> {
    const label = `${params.label ?? 'contract'}.${String(params.functionName)} at ${params.address} on chain ${this.chainId}`;
    // Every revert on the way (simulation, gas estimation, sending) is decoded against the
    // contract's full ABI plus the errors of whatever it calls: viem's `request.abi` is cut
    // down to the one function, and a revert decoded against it reads as `unknown error 0x…`.
    const abi: Abi = [...params.abi, ...sharedErrorAbi()];
    const { label: _label, ...call } = params;
    // Simulated against the block the transaction will land in: a deadline that passes
    // between `latest` and the next block is refused here, by name, and nothing is sent.
    const simulate = async () =>
      (
        await retried(() =>
          this.public.simulateContract({ ...(call as unknown as SimulateContractParameters), abi, account: this.account, blockTag: 'pending' } as unknown as SimulateContractParameters),
        )
      ).request as unknown as SimulatedRequest;
    const fail = (cause: unknown) => new RelayerError(`${label} failed: ${shortReason(cause)}`, { cause, retryable: !isRevert(cause) });
    const written = this.sender ? this.signAndSend({ simulate, abi }) : this.enqueue(async () => this.sendFromNode(await simulate(), abi));
    return written.then(
      (receipt) => {
        if (receipt.status !== 'success') throw fail(new RelayerError(`transaction ${receipt.transactionHash} reverted`, { retryable: true }));
        return receipt;
      },
      (cause: unknown) => {
        throw fail(cause);
      },
    );
  }

  /**
   * Signs the simulated call with the next nonce and hands it to the RPC, in the order of the
   * calls (the chain's write queue); its receipt is awaited outside the queue, so the next call
   * goes out at once (chains/tx-sender.ts replaces or resends it meanwhile). A nonce taken by
   * something else: the call is simulated and signed again.
   */
  private async signAndSend(params: { simulate: () => Promise<SimulatedRequest>; abi: Abi }): Promise<TransactionReceipt> {
    const sender = this.sender as TxSender;
    for (;;) {
      const sent = await this.enqueue(async () => {
        const request = await params.simulate();
        const { abi: _abi, functionName, args, address, dataSuffix: _suffix, blockTag: _pending, account: _account, ...fields } = request;
        const transaction = { ...fields, to: address, data: encodeFunctionData({ abi: params.abi, functionName, args }) };
        const decode = (error: unknown) => (error instanceof BaseError ? getContractError(error, { abi: params.abi, address, args, functionName, sender: this.account.address }) : error);
        return sender.submit(transaction, decode);
      });
      if (sent === NONCE_TAKEN) continue;
      const receipt = await sender.receipt(sent);
      if (receipt !== NONCE_TAKEN) return receipt;
    }
  }

  /**
   * An account the node holds (an impersonated one on a devnet): the node signs, so a lost
   * answer cannot be told from a refusal to send, and nothing is sent twice: one attempt.
   */
  private async sendFromNode(request: SimulatedRequest, abi: Abi): Promise<TransactionReceipt> {
    const { blockTag: _pending, ...toSend } = request;
    const hash = await this.wallet.writeContract({ ...toSend, abi } as unknown as Parameters<typeof this.wallet.writeContract>[0]);
    return this.public.waitForTransactionReceipt({ hash });
  }

  /** Deploys creation code with ABI-encoded constructor arguments; resolves to the address. */
  deploy(params: { name: string; abi: Abi; bytecode: Hex; args?: readonly unknown[] }): Promise<Address> {
    return this.enqueue(async () => {
      try {
        const hash = await this.wallet.deployContract({ abi: params.abi, bytecode: params.bytecode, args: params.args ?? [] });
        const receipt = await this.public.waitForTransactionReceipt({ hash });
        if (receipt.status !== 'success' || !receipt.contractAddress) throw new RelayerError(`deployment ${hash} reverted`);
        return receipt.contractAddress;
      } catch (cause) {
        throw new RelayerError(`deploying ${params.name} on chain ${this.chainId} failed: ${shortReason(cause)}`, { cause, retryable: !isRevert(cause) });
      }
    });
  }
}

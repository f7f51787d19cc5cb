import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
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
import { RelayerError } from '../relayer/errors.js';
import { sharedErrorAbi } from './protocol/abi.js';
import { countingFetch } from './rpc-errors.js';

/** An EVM chain as the node addresses it. */
export interface ChainEndpoint {
  readonly chainId: number;
  readonly rpcUrl: string;
  readonly name?: string;
}

export function viemChain(endpoint: ChainEndpoint): Chain {
  return defineChain({
    id: endpoint.chainId,
    name: endpoint.name ?? `chain-${endpoint.chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [endpoint.rpcUrl] } },
  });
}

export function publicClientFor(endpoint: ChainEndpoint): PublicClient<Transport, Chain> {
  // Devnet blocks come fast: poll often so receipts are seen within milliseconds.
  return createPublicClient({ chain: viemChain(endpoint), transport: http(endpoint.rpcUrl, { fetchFn: countingFetch(endpoint.chainId) }), pollingInterval: 50 });
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
 * reason when the contract gave one, else viem's short message.
 */
export function shortReason(error: unknown): string {
  if (!(error instanceof BaseError)) return error instanceof Error ? (error.message.split('\n')[0] ?? error.name) : String(error);
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
  if (reverted instanceof ContractFunctionRevertedError) {
    if (reverted.data) return `reverted with ${errorCall(reverted.data.errorName, reverted.data.args)}`;
    if (reverted.reason) return `reverted: ${reverted.reason}`;
    if (reverted.signature) return `reverted with unknown error ${reverted.signature}`;
  }
  return error.shortMessage;
}

/**
 * Whether a failure is the contract refusing (a revert: the same call will be refused again),
 * as opposed to the network or node failing (worth retrying).
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

/** The revert somewhere in an error's cause chain (our errors wrap viem's). */
function revertOf(error: unknown): ContractFunctionRevertedError | undefined {
  let current: unknown = error;
  while (current instanceof Error) {
    const reverted = current instanceof BaseError ? current.walk((e) => e instanceof ContractFunctionRevertedError) : null;
    if (reverted instanceof ContractFunctionRevertedError) return reverted;
    current = current.cause;
  }
  return undefined;
}

/**
 * One account on one chain. Its transactions go out one at a time, in order (one nonce
 * sequence), each simulated first (against the pending block, where it will land) so that a
 * revert is reported with its reason instead of being mined; a failure names
 * `contract.method on chain` and the revert decoded by name (see `write`).
 */
export class Signer {
  readonly public: PublicClient<Transport, Chain>;
  readonly wallet: WalletClient<Transport, Chain, Account>;
  readonly chainId: number;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly endpoint: ChainEndpoint,
    readonly account: Account,
  ) {
    this.chainId = endpoint.chainId;
    this.public = publicClientFor(endpoint);
    this.wallet = createWalletClient({ account, chain: viemChain(endpoint), transport: http(endpoint.rpcUrl, { fetchFn: countingFetch(endpoint.chainId) }) });
  }

  get address(): Address {
    return this.account.address;
  }

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Simulates, sends and waits for the receipt of a contract call; a revert throws. */
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
    return this.enqueue(async () => {
      try {
        const { label: _label, ...call } = params;
        // Simulated against the block the transaction will land in: a deadline that passes
        // between `latest` and the next block is refused here, by name, and nothing is sent.
        const { request } = await this.public.simulateContract({
          ...(call as unknown as SimulateContractParameters),
          abi,
          account: this.account,
          blockTag: 'pending',
        } as unknown as SimulateContractParameters);
        const { blockTag: _pending, ...toSend } = request as typeof request & { blockTag?: unknown };
        const hash = await this.wallet.writeContract({ ...toSend, abi } as Parameters<typeof this.wallet.writeContract>[0]);
        const receipt = await this.public.waitForTransactionReceipt({ hash });
        if (receipt.status !== 'success') throw new RelayerError(`transaction ${hash} reverted`);
        return receipt;
      } catch (cause) {
        throw new RelayerError(`${label} failed: ${shortReason(cause)}`, { cause });
      }
    });
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
        throw new RelayerError(`deploying ${params.name} on chain ${this.chainId} failed: ${shortReason(cause)}`, { cause });
      }
    });
  }
}

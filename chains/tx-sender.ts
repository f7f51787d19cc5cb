/**
 * Sends one account's transactions on one chain, pipelined: each is signed with the next nonce
 * (chains/nonce-store.ts) and handed to the RPC, and the next one goes out at once; receipts
 * are tracked afterwards. A transaction not mined within `replaceAfterBlocks` blocks is signed
 * again under the same nonce at fees raised by `feeBumpPercent` (and at least the chain's
 * current EIP-1559 estimate), never above `maxFeePerGas` (Hyperlane's gas escalator: +12.5%
 * per step, capped); one the RPC no longer knows (dropped) is sent again as it was, or
 * replaced when the RPC refuses it now. Every
 * version shares the nonce, so exactly one of them mines. The nonce taken by something else
 * (a gap filled past it) is reported back, and the caller signs the call again with a new one.
 */
import {
  BaseError,
  NonceTooLowError,
  TransactionNotFoundError,
  TransactionReceiptNotFoundError,
  keccak256,
  type Account,
  type Chain,
  type Hash,
  type Hex,
  type LocalAccount,
  type PublicClient,
  type TransactionReceipt,
  type TransactionSerializable,
  type Transport,
  type WalletClient,
} from 'viem';
import type { ChainNonces, NonceStore } from './nonce-store.js';
import { answerLost, retried } from './signer.js';

export interface SenderSettings {
  /** Blocks a transaction may wait unmined before it is replaced at higher fees. */
  readonly replaceAfterBlocks: number;
  /** How much each replacement raises both EIP-1559 fees, in percent (10 at least: nodes refuse less). */
  readonly feeBumpPercent: number;
  /** No version of a transaction offers more than this per gas, in wei. */
  readonly maxFeePerGas: bigint;
}

export const DEFAULT_SENDER_SETTINGS: SenderSettings = { replaceAfterBlocks: 3, feeBumpPercent: 12.5, maxFeePerGas: 500_000_000_000n };

type Unsigned = TransactionSerializable & { readonly nonce: number; readonly maxFeePerGas: bigint; readonly maxPriorityFeePerGas: bigint };

/** A transaction handed to the RPC: every version signed under its nonce, the newest last. */
export interface InFlight {
  readonly nonce: number;
  unsigned: Unsigned;
  signed: Hex;
  readonly hashes: Hash[];
  /** The head when the newest version was sent (or sent again). */
  sentAt: bigint;
}

/** Its nonce was used by a transaction that is none of ours: sign the call again. */
export const NONCE_TAKEN = Symbol('nonce taken');

/** Consecutive failed polls of the RPC after which tracking gives up (the write is retried by its job). */
const MAX_FAILED_POLLS = 200;

/**
 * Polls for which a used nonce must show no receipt of ours before it counts as taken: an RPC
 * behind a load balancer, or a busy anvil, reports the nonce used before it returns the
 * receipt, and signing the call again then would run it twice.
 */
const TAKEN_AFTER_POLLS = 20;

export class TxSender {
  /** Versions signed to replace a stuck transaction, since start (for metrics and tests). */
  replacements = 0;
  /** Transactions sent again after the RPC dropped them. */
  resends = 0;

  constructor(
    private readonly client: PublicClient<Transport, Chain>,
    private readonly wallet: WalletClient<Transport, Chain, Account>,
    private readonly account: LocalAccount,
    private readonly nonces: NonceStore,
    private readonly settings: SenderSettings,
    private readonly pollMs: number,
  ) {}

  /**
   * Signs `transaction` (to, data, value) with the next nonce and hands it to the RPC. `decode`
   * turns a failure of gas estimation into the contract's error. A lost answer is retried with
   * the same signed transaction, never a second one; `NONCE_TAKEN`: the nonce was stale.
   */
  submit(transaction: Record<string, unknown>, decode: (error: unknown) => unknown): Promise<InFlight | typeof NONCE_TAKEN> {
    return this.nonces.withNextNonce(
      () => this.chainNonces(),
      async (nonce) => {
        let unsigned: Unsigned;
        try {
          unsigned = this.capped((await this.wallet.prepareTransactionRequest({ ...transaction, nonce, type: 'eip1559', account: this.account, chain: this.wallet.chain } as Parameters<typeof this.wallet.prepareTransactionRequest>[0])) as unknown as Unsigned);
        } catch (error) {
          throw decode(error);
        }
        const signed = await this.sign(unsigned);
        const head = await retried(() => this.client.getBlockNumber({ cacheTime: 0 }));
        const sent: InFlight = { nonce, unsigned, signed, hashes: [keccak256(signed)], sentAt: head };
        // Refused as too low: mined already (a lost answer the first time), or the held nonce is
        // behind the chain; then it is not used up, and the next read resyncs.
        if ((await retried(() => this.broadcast(signed))) === NONCE_TAKEN && (await this.minedOrTaken(sent).catch(() => NONCE_TAKEN)) === NONCE_TAKEN) throw new StaleNonce();
        return sent;
      },
    ).catch((error: unknown) => {
      if (error instanceof StaleNonce) return NONCE_TAKEN;
      throw error;
    });
  }

  /** Waits for one version of the transaction to be mined, replacing and resending it on the way. */
  async receipt(sent: InFlight): Promise<TransactionReceipt | typeof NONCE_TAKEN> {
    let seenHead: bigint | undefined;
    for (let failures = 0; ; ) {
      try {
        const head = await this.client.getBlockNumber({ cacheTime: this.pollMs });
        if (head !== seenHead) {
          seenHead = head;
          const mined = await this.minedVersion(sent);
          if (mined) return mined;
          if ((await this.client.getTransactionCount({ address: this.account.address, blockTag: 'latest' })) > sent.nonce) {
            // The nonce is used: by one of ours mined in between, or by something else.
            return await this.minedOrTaken(sent);
          }
          if (head - sent.sentAt >= BigInt(this.settings.replaceAfterBlocks)) await this.unstick(sent, head);
        }
        failures = 0;
      } catch (error) {
        if (!answerLost(error) || (failures += 1) >= MAX_FAILED_POLLS) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
  }

  /** Its nonce is used: the receipt of the version that mined, or NONCE_TAKEN once none shows for TAKEN_AFTER_POLLS polls. */
  private async minedOrTaken(sent: InFlight): Promise<TransactionReceipt | typeof NONCE_TAKEN> {
    for (let poll = 0; poll < TAKEN_AFTER_POLLS; poll += 1) {
      const mined = await this.minedVersion(sent);
      if (mined) return mined;
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
    return (await this.minedVersion(sent)) ?? NONCE_TAKEN;
  }

  private async minedVersion(sent: InFlight): Promise<TransactionReceipt | undefined> {
    for (const hash of [...sent.hashes].reverse()) {
      try {
        return await this.client.getTransactionReceipt({ hash });
      } catch (error) {
        if (!(error instanceof TransactionReceiptNotFoundError)) throw error;
      }
    }
    return undefined;
  }

  /** Not mined in time: sent again if the RPC dropped it, else replaced at higher fees (up to the cap). */
  private async unstick(sent: InFlight, head: bigint): Promise<void> {
    sent.sentAt = head;
    const newest = sent.hashes.at(-1) as Hash;
    const known = await this.client.getTransaction({ hash: newest }).then(
      () => true,
      (error: unknown) => {
        if (error instanceof TransactionNotFoundError) return false;
        throw error;
      },
    );
    if (!known) {
      try {
        await this.broadcast(sent.signed);
        this.resends += 1;
        return;
      } catch (error) {
        if (answerLost(error)) throw error;
        // Refused (priced below the base fee now, say): replaced at higher fees instead.
      }
    }
    const fees = await this.client.estimateFeesPerGas({ type: 'eip1559' });
    const bumped = this.capped({
      ...sent.unsigned,
      maxFeePerGas: max(raise(sent.unsigned.maxFeePerGas, this.settings.feeBumpPercent), fees.maxFeePerGas),
      maxPriorityFeePerGas: max(raise(sent.unsigned.maxPriorityFeePerGas, this.settings.feeBumpPercent), fees.maxPriorityFeePerGas),
    });
    if (bumped.maxFeePerGas <= sent.unsigned.maxFeePerGas) return; // at the cap: wait
    const signed = await this.sign(bumped);
    try {
      if ((await this.broadcast(signed)) === NONCE_TAKEN) return; // mined meanwhile: the next poll sees it
    } catch (error) {
      if (answerLost(error)) throw error;
      return; // refused as underpriced (a bump below the node's minimum at the cap): wait
    }
    this.replacements += 1;
    sent.unsigned = bumped;
    sent.signed = signed;
    sent.hashes.push(keccak256(signed));
  }

  private capped(unsigned: Unsigned): Unsigned {
    const cap = this.settings.maxFeePerGas;
    const maxFeePerGas = unsigned.maxFeePerGas > cap ? cap : unsigned.maxFeePerGas;
    const maxPriorityFeePerGas = unsigned.maxPriorityFeePerGas > maxFeePerGas ? maxFeePerGas : unsigned.maxPriorityFeePerGas;
    return { ...unsigned, maxFeePerGas, maxPriorityFeePerGas };
  }

  private sign(unsigned: Unsigned): Promise<Hex> {
    // Signed here, for this chain id: the wallet action would ask the RPC for it on every write.
    const { account: _account, chain: _chain, from: _from, ...fields } = unsigned as Unsigned & { account?: unknown; chain?: unknown; from?: unknown };
    return this.account.signTransaction({ ...fields, type: 'eip1559', chainId: this.wallet.chain.id } as TransactionSerializable);
  }

  /** Hands a signed transaction to the RPC; one it already has is fine; `NONCE_TAKEN` when the nonce is used. */
  private async broadcast(signed: Hex): Promise<void | typeof NONCE_TAKEN> {
    try {
      await this.wallet.sendRawTransaction({ serializedTransaction: signed });
    } catch (error) {
      if (answerLost(error)) throw error;
      const message = error instanceof BaseError ? `${error.message} ${error.details}` : String(error);
      if (/already known|already imported/i.test(message)) return;
      if (NonceTooLowError.nodeMessage.test(message)) return NONCE_TAKEN;
      throw error;
    }
  }

  private async chainNonces(): Promise<ChainNonces> {
    const [mined, pending] = await Promise.all([
      retried(() => this.client.getTransactionCount({ address: this.account.address, blockTag: 'latest' })),
      retried(() => this.client.getTransactionCount({ address: this.account.address, blockTag: 'pending' })),
    ]);
    return { mined, pending };
  }
}

class StaleNonce extends Error {}

const raise = (value: bigint, percent: number): bigint => (value * BigInt(Math.round(1000 + percent * 10)) + 999n) / 1000n;
const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);

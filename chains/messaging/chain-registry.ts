import { RelayerError } from '../../relayer/errors.js';
import type { Signer } from '../signer.js';
import type { MessagingChain } from './transport.js';

/** A transport's chains and the node's signer on each, looked up by chain key. */
export class ChainRegistry<C extends MessagingChain> {
  private readonly byKey: ReadonlyMap<string, C>;

  constructor(
    private readonly network: string,
    chains: readonly C[],
    private readonly relayers: ReadonlyMap<string, Signer>,
  ) {
    this.byKey = new Map(chains.map((chain) => [chain.key, chain]));
  }

  chain(key: string): C {
    const chain = this.byKey.get(key);
    if (!chain) throw new RelayerError(`unknown chain '${key}' for ${this.network} (known: ${[...this.byKey.keys()].join(', ')})`);
    return chain;
  }

  relayer(key: string): Signer {
    const signer = this.relayers.get(key);
    if (!signer) throw new RelayerError(`no relayer signer for chain '${key}'`);
    return signer;
  }
}

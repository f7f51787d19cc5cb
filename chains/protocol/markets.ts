import { hexToString, stringToHex, trim, type Hex } from 'viem';
import { RelayerError } from '../../relayer/errors.js';

/**
 * A market's on-chain id: its symbol as a right-padded bytes32 (`ETH-USD` -> 0x4554482d555344...),
 * readable in logs and identical on every chain.
 */
export function marketId(symbol: string): Hex {
  if (symbol.length === 0 || new TextEncoder().encode(symbol).length > 32) {
    throw new RelayerError(`market symbol '${symbol}' must be 1 to 32 bytes`);
  }
  return stringToHex(symbol, { size: 32 });
}

/** The symbol back from a market id. */
export function marketSymbol(id: Hex): string {
  return hexToString(trim(id, { dir: 'right' }));
}

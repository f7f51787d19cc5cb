/**
 * The accounts of a run, column-wise (typed arrays): a hundred thousand accounts are scanned
 * every step, and flat arrays keep that scan cheap. Money is USD as `number` (the simulator is
 * a statistical model; the ledger's base units live elsewhere); sizes are signed asset units
 * (long > 0), entries USD per unit. Account i's positions are indices
 * [positionStart[i], positionStart[i + 1]), all on its home chain; its collateral on other
 * chains (pure surplus, no positions there) is [remoteStart[i], remoteStart[i + 1]).
 */
export interface AccountBook {
  readonly count: number;
  readonly home: Int32Array;
  /** Collateral on the home chain, USD. */
  readonly collateral: Float64Array;
  readonly positionStart: Int32Array;
  readonly positionMarket: Int32Array;
  readonly positionSize: Float64Array;
  readonly positionEntry: Float64Array;
  readonly remoteStart: Int32Array;
  readonly remoteChain: Int32Array;
  /** Collateral kept on another chain, USD. */
  readonly remoteCollateral: Float64Array;
  /** The owner consented to moving surplus between chains (DESIGN.md section 4). */
  readonly optedIn: Uint8Array;
}

/** An independent copy: every strategy runs on its own book from the same population. */
export function cloneBook(book: AccountBook): AccountBook {
  return {
    count: book.count,
    home: book.home.slice(),
    collateral: book.collateral.slice(),
    positionStart: book.positionStart.slice(),
    positionMarket: book.positionMarket.slice(),
    positionSize: book.positionSize.slice(),
    positionEntry: book.positionEntry.slice(),
    remoteStart: book.remoteStart.slice(),
    remoteChain: book.remoteChain.slice(),
    remoteCollateral: book.remoteCollateral.slice(),
    optedIn: book.optedIn.slice(),
  };
}

/** E = C + sum p (P - e) at the account's home-chain oracle prices (indexed by slot). */
export function equityOf(params: { book: AccountBook; account: number; prices: Float64Array; marketCount: number }): number {
  const { book, account, prices, marketCount } = params;
  const base = (book.home[account] ?? 0) * marketCount;
  let equity = book.collateral[account] ?? 0;
  const end = book.positionStart[account + 1] ?? 0;
  for (let k = book.positionStart[account] ?? 0; k < end; k++) {
    const size = book.positionSize[k] ?? 0;
    if (size === 0) continue;
    equity += size * ((prices[base + (book.positionMarket[k] ?? 0)] ?? 0) - (book.positionEntry[k] ?? 0));
  }
  return equity;
}

export function hasPositions(book: AccountBook, account: number): boolean {
  const end = book.positionStart[account + 1] ?? 0;
  for (let k = book.positionStart[account] ?? 0; k < end; k++) if ((book.positionSize[k] ?? 0) !== 0) return true;
  return false;
}

/** Sum of |p| P over the account's positions at `prices`. */
export function notionalOf(params: { book: AccountBook; account: number; prices: Float64Array; marketCount: number }): number {
  const { book, account, prices, marketCount } = params;
  const base = (book.home[account] ?? 0) * marketCount;
  let notional = 0;
  const end = book.positionStart[account + 1] ?? 0;
  for (let k = book.positionStart[account] ?? 0; k < end; k++) {
    notional += Math.abs(book.positionSize[k] ?? 0) * (prices[base + (book.positionMarket[k] ?? 0)] ?? 0);
  }
  return notional;
}

/** Collateral the account keeps on other chains, USD. */
export function remoteTotal(book: AccountBook, account: number): number {
  let total = 0;
  const end = book.remoteStart[account + 1] ?? 0;
  for (let r = book.remoteStart[account] ?? 0; r < end; r++) total += book.remoteCollateral[r] ?? 0;
  return total;
}

/** One account as a test, a bench or a hand-written case states it. */
export interface AccountSpec {
  readonly home: number;
  readonly collateral: number;
  readonly positions: readonly { readonly market: number; readonly size: number; readonly entry: number }[];
  readonly remote?: readonly { readonly chain: number; readonly amount: number }[];
  readonly optedIn?: boolean;
}

/** A book of the given accounts, in order. */
export function bookFromAccounts(accounts: readonly AccountSpec[]): AccountBook {
  const positions = accounts.flatMap((account) => account.positions);
  const remotes = accounts.flatMap((account) => account.remote ?? []);
  const positionStart = new Int32Array(accounts.length + 1);
  const remoteStart = new Int32Array(accounts.length + 1);
  accounts.forEach((account, i) => {
    positionStart[i + 1] = (positionStart[i] ?? 0) + account.positions.length;
    remoteStart[i + 1] = (remoteStart[i] ?? 0) + (account.remote?.length ?? 0);
  });
  return {
    count: accounts.length,
    home: Int32Array.from(accounts, (account) => account.home),
    collateral: Float64Array.from(accounts, (account) => account.collateral),
    positionStart,
    positionMarket: Int32Array.from(positions, (position) => position.market),
    positionSize: Float64Array.from(positions, (position) => position.size),
    positionEntry: Float64Array.from(positions, (position) => position.entry),
    remoteStart,
    remoteChain: Int32Array.from(remotes, (remote) => remote.chain),
    remoteCollateral: Float64Array.from(remotes, (remote) => remote.amount),
    optedIn: Uint8Array.from(accounts, (account) => (account.optedIn === false ? 0 : 1)),
  };
}

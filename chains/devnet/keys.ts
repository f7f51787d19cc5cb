import { mnemonicToAccount, type HDAccount } from 'viem/accounts';

/** anvil's well-known test mnemonic: its accounts are funded on every devnet chain. */
const DEVNET_MNEMONIC = 'test test test test test test test test test test test junk';

/**
 * Who does what on the devnet, by account index: the deployer owns the infrastructure; the
 * relayer is the node (executor and DVN admin, leg sender, backstop unwinder); the DVN signer
 * only signs verifications; the guardian may pause the margin engines; traders start after these.
 */
export const devnetRoles = { deployer: 0, relayer: 1, dvnSigner: 2, guardian: 3, firstTrader: 10 } as const;

export function devnetAccount(index: number): HDAccount {
  return mnemonicToAccount(DEVNET_MNEMONIC, { addressIndex: index });
}

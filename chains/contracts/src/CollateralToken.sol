// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice The protocol's USD stablecoin on one chain (6 decimals). Only the chain's vault mints
/// and burns it: it burns on the source chain of a leg and mints on the destination, so the total
/// supply over all chains plus what is in flight stays constant (issuance aside, which the vault
/// records as `Issued`).
contract CollateralToken is ERC20 {
    uint8 private constant DECIMALS = 6;

    /// @notice The deployer, whose only power is to name the vault once.
    address public immutable admin;
    /// @notice The only minter and burner; set once, never changed.
    address public vault;

    event VaultSet(address indexed vault);

    error NotAdmin(address caller);
    error NotVault(address caller);
    error VaultAlreadySet(address vault);
    error ZeroVault();

    modifier onlyVault() {
        if (msg.sender != vault) revert NotVault(msg.sender);
        _;
    }

    constructor(string memory name_, string memory symbol_) ERC20(name_, symbol_) {
        admin = msg.sender;
    }

    /// @notice Names the vault, once (the vault is deployed after the token it uses).
    function setVault(address vault_) external {
        if (msg.sender != admin) revert NotAdmin(msg.sender);
        if (vault != address(0)) revert VaultAlreadySet(vault);
        if (vault_ == address(0)) revert ZeroVault();
        vault = vault_;
        emit VaultSet(vault_);
    }

    /// @notice Mints `amount` base units to `to`; the vault only.
    function mint(address to, uint256 amount) external onlyVault {
        _mint(to, amount);
    }

    /// @notice Burns `amount` base units of the vault's own balance; the vault only.
    function burn(uint256 amount) external onlyVault {
        _burn(msg.sender, amount);
    }

    /// @notice 6, as USDC.
    function decimals() public pure override returns (uint8) {
        return DECIMALS;
    }
}

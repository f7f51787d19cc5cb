// SPDX-License-Identifier: MIT
pragma solidity ^0.8.22;

/// @notice What the vault needs of the margin engine on its chain: move collateral into and
/// out of accounts, and take positions over as the backstop.
interface IMarginEngine {
    function creditMargin(address account, uint256 amount) external;

    function releaseMargin(address account, uint256 amount) external;

    function absorbUpTo(address account, bytes32 market, int256 maxSize) external returns (int256 absorbed);

    function withdraw(uint256 amount) external;
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.22;

/// @notice What the vault needs of the margin engine on its chain: move collateral into and
/// out of accounts, take positions over as the backstop and unwind them, and whether it is paused.
interface IMarginEngine {
    function creditMargin(address account, uint256 amount) external;

    function releaseMargin(address account, uint256 amount) external;

    function absorbUpTo(address account, bytes32 market, int256 maxSize) external returns (int256 absorbed);

    function withdraw(uint256 amount) external;

    function unwindBackstop(bytes32 market, int256 size, uint256 limitPrice) external returns (uint256 executionPrice);

    function paused() external view returns (bool);
}

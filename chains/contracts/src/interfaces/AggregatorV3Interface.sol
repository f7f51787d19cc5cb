// SPDX-License-Identifier: MIT
pragma solidity ^0.8.22;

/// @notice Chainlink's price feed interface, as its consumers read it (same selectors and
/// return shapes), so that the margin engine and the node's watchers read devnet feeds and live
/// Chainlink feeds alike.
interface AggregatorV3Interface {
    function decimals() external view returns (uint8);

    function description() external view returns (string memory);

    function version() external view returns (uint256);

    function getRoundData(uint80 roundId)
        external
        view
        returns (uint80 roundId_, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);

    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {AggregatorV3Interface} from "./interfaces/AggregatorV3Interface.sol";

/// @notice A price feed for one market, read exactly like a Chainlink aggregator
/// (`latestRoundData`, `getRoundData`, `decimals`, `description`), whose owner pushes rounds.
/// It emits Chainlink's own `AnswerUpdated` and `NewRound` events, so a watcher follows a devnet
/// feed and a live Chainlink aggregator with the same code.
contract MarketPriceFeed is AggregatorV3Interface, Ownable2Step {
    struct Round {
        int256 answer;
        uint64 startedAt;
        uint64 updatedAt;
    }

    /// @notice Version of this feed implementation (Chainlink's `version()`).
    uint256 public constant version = 1;
    /// @notice Decimals of every answer (8 for USD prices, as Chainlink's USD feeds).
    uint8 public immutable decimals;
    /// @notice What the feed prices, e.g. "ETH / USD".
    string public description;
    /// @notice The id of the newest round; rounds are numbered from 1.
    uint80 public latestRound;

    mapping(uint80 roundId => Round) private _rounds;

    /// @notice Chainlink's event for a new answer.
    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);
    /// @notice Chainlink's event for a new round.
    event NewRound(uint256 indexed roundId, address indexed startedBy, uint256 startedAt);

    error NonPositiveAnswer(int256 answer);
    /// @dev Chainlink aggregators revert with "No data present" for a round they do not have.
    error NoDataPresent(uint80 roundId);

    /// @param decimals_ Decimals of the answers.
    /// @param description_ What the feed prices, e.g. "ETH / USD".
    /// @param initialAnswer The first round's answer: a feed always has a price.
    /// @param owner_ Who may push rounds.
    constructor(uint8 decimals_, string memory description_, int256 initialAnswer, address owner_) Ownable(owner_) {
        decimals = decimals_;
        description = description_;
        _pushRound(initialAnswer);
    }

    /// @notice Publishes a new round with `answer`, stamped with the current block time.
    /// @return roundId The new round's id.
    function pushRound(int256 answer) external onlyOwner returns (uint80 roundId) {
        return _pushRound(answer);
    }

    /// @notice The newest round, as Chainlink returns it (`answeredInRound` equals `roundId`).
    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        return _roundData(latestRound);
    }

    /// @notice A past round by id; reverts `NoDataPresent` for a round that does not exist.
    function getRoundData(uint80 roundId)
        external
        view
        returns (uint80 roundId_, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        return _roundData(roundId);
    }

    function _pushRound(int256 answer) private returns (uint80 roundId) {
        if (answer <= 0) revert NonPositiveAnswer(answer);
        roundId = latestRound + 1;
        latestRound = roundId;
        _rounds[roundId] = Round({answer: answer, startedAt: uint64(block.timestamp), updatedAt: uint64(block.timestamp)});
        emit NewRound(roundId, msg.sender, block.timestamp);
        emit AnswerUpdated(answer, roundId, block.timestamp);
    }

    function _roundData(uint80 roundId) private view returns (uint80, int256, uint256, uint256, uint80) {
        Round memory round = _rounds[roundId];
        if (round.updatedAt == 0) revert NoDataPresent(roundId);
        return (roundId, round.answer, round.startedAt, round.updatedAt, roundId);
    }
}

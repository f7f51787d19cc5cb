// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SignedMath} from "@openzeppelin/contracts/utils/math/SignedMath.sol";
import {AggregatorV3Interface} from "./interfaces/AggregatorV3Interface.sol";
import {IMarginEngine} from "./interfaces/IMarginEngine.sol";

/// @notice Cross-margin perpetuals on one chain: accounts hold collateral (the chain's
/// CollateralToken) and signed positions per market, opened at the oracle price.
///
/// Units: collateral in token base units (6 decimals); prices with 8 decimals (Chainlink USD
/// feeds); sizes signed, in base units scaled by 1e18 (SIZE_SCALE); fractions scaled by 1e18
/// (WAD). A value in collateral units is size * price / VALUE_SCALE (1e20).
///
/// Equity E = C + sum p_i (P_i - e_i); maintenance MM = sum |p_i| P_i m_i; initial IM likewise
/// with the initial fraction. Equity rounds down, requirements up.
///
/// Below maintenance anyone may `liquidate` part of a position through the market's virtual AMM
/// (constant product, re-centred on the oracle price: selling s of depth L returns
/// P L s / (L + s), so slippage P s^2 / (L + s) grows with size), up to the size that restores
/// maintenance, for a penalty split between the liquidator and the insurance fund. Below
/// initial margin the backstop may `absorb` a position at the oracle price minus the penalty,
/// with no market impact, up to the size that restores initial margin.
///
/// Every change of collateral, position, market and price use is an event carrying the new
/// state, so a watcher rebuilds every account from logs alone.
contract MarginEngine is IMarginEngine, Ownable2Step {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;
    using SafeCast for int256;

    /// @notice Scale of fractions (margin fractions, penalty, liquidator share).
    uint256 public constant WAD = 1e18;
    /// @notice Scale of position sizes: 1e18 = one unit of the base asset.
    uint256 public constant SIZE_SCALE = 1e18;
    /// @notice Decimals of every price feed the engine accepts.
    uint8 public constant PRICE_DECIMALS = 8;
    /// @notice Decimals of the collateral token.
    uint8 public constant COLLATERAL_DECIMALS = 6;
    /// @notice size * price / VALUE_SCALE = value in collateral units (1e18 * 1e8 / 1e6).
    uint256 public constant VALUE_SCALE = 1e20;
    /// @notice Markets are bounded so that a health check stays a bounded loop.
    uint256 public constant MAX_MARKETS = 16;
    /// @notice Upper bound of a market's AMM depth (1e18 base units), which bounds the cap math.
    uint256 public constant MAX_AMM_DEPTH = 1e36;
    /// @notice Collateral units added to a deficit when sizing a liquidation or absorption, so the
    /// roundings of the accounting (equity down, requirements up, realized PnL down) cannot
    /// leave an account just short of the level the size was meant to restore.
    uint256 public constant HEALTH_ROUNDING_MARGIN = 4;

    enum CollateralReason {
        Deposit,
        Withdrawal,
        VaultCredit,
        VaultRelease,
        RealizedPnl,
        LiquidationPenalty,
        LiquidatorReward,
        BadDebtCover
    }

    enum PositionReason {
        Trade,
        Liquidation,
        Absorption,
        BackstopTakeover
    }

    struct MarketConfig {
        /// Chainlink-compatible feed with PRICE_DECIMALS decimals.
        AggregatorV3Interface feed;
        /// Seconds after `updatedAt` that a price may still move positions or margin.
        uint64 maxPriceAge;
        /// Maintenance margin fraction (WAD).
        uint256 maintenanceMarginFraction;
        /// Initial margin fraction (WAD), above maintenance.
        uint256 initialMarginFraction;
        /// Penalty of a liquidation or absorption, as a fraction of the notional at the oracle price (WAD).
        uint256 liquidationPenalty;
        /// Virtual base reserve of the market's AMM (SIZE_SCALE units).
        uint256 ammDepth;
    }

    struct Position {
        int128 size;
        uint128 entryPrice;
    }

    struct PositionView {
        bytes32 market;
        int256 size;
        uint256 entryPrice;
        uint256 price;
        int256 unrealizedPnl;
        uint256 maintenanceMargin;
        uint256 initialMargin;
    }

    struct AccountView {
        int256 collateral;
        int256 equity;
        uint256 maintenanceMargin;
        uint256 initialMargin;
        uint256 freeCollateral;
        bool crossChainConsent;
        PositionView[] positions;
    }

    /// @dev An account's equity and requirements in collateral units.
    struct Health {
        int256 equity;
        uint256 maintenance;
        uint256 initial;
    }

    /// @dev A backstop takeover's terms: the fresh price and its round, the account's health
    /// against initial margin, its position, the absorb price and the largest size allowed.
    struct Takeover {
        uint256 price;
        uint80 roundId;
        uint256 updatedAt;
        int256 equity;
        uint256 initial;
        bool belowInitial;
        Position position;
        uint256 absorbPrice;
        uint256 maxSize;
    }

    /// @notice The collateral token (6 decimals).
    IERC20 public immutable collateralToken;
    /// @notice The only caller of `creditMargin` and `releaseMargin`.
    address public vault;
    /// @notice The only caller of `absorb`, and the account that takes absorbed positions over.
    address public backstop;
    /// @notice The liquidator's part of a liquidation penalty (WAD); the rest goes to insurance.
    uint256 public liquidatorShare;
    /// @notice Penalties kept by the protocol, in collateral units; covers bad debt.
    uint256 public insuranceFund;
    /// @notice Whether an account's owner lets the vault move its surplus to other chains.
    mapping(address account => bool) public crossChainConsent;

    bytes32[] private _marketIds;
    mapping(bytes32 market => MarketConfig) private _markets;
    mapping(address account => int256) private _collateral;
    mapping(address account => mapping(bytes32 market => Position)) private _positions;

    event MarketConfigured(
        bytes32 indexed market,
        address feed,
        uint256 maintenanceMarginFraction,
        uint256 initialMarginFraction,
        uint256 liquidationPenalty,
        uint256 ammDepth,
        uint64 maxPriceAge
    );
    event VaultSet(address indexed vault);
    event BackstopSet(address indexed backstop);
    event LiquidatorShareSet(uint256 share);
    event CrossChainConsentSet(address indexed account, bool allowed);
    /// @notice Any change of an account's collateral; `balance` is the new collateral.
    event CollateralChanged(address indexed account, CollateralReason indexed reason, int256 delta, int256 balance);
    /// @notice Any change of a position; `size` and `entryPrice` are the new state, `price` the
    /// price the change was made at, `realizedPnl` what it booked to collateral.
    event PositionChanged(
        address indexed account,
        bytes32 indexed market,
        PositionReason indexed reason,
        int256 sizeDelta,
        int256 size,
        uint256 entryPrice,
        uint256 price,
        int256 realizedPnl
    );
    /// @notice The oracle round an action moved a position or margin at.
    event PriceUsed(bytes32 indexed market, uint80 roundId, uint256 price, uint256 updatedAt);
    event Liquidated(
        address indexed account,
        bytes32 indexed market,
        address indexed liquidator,
        int256 size,
        uint256 oraclePrice,
        uint256 executionPrice,
        uint256 slippage,
        uint256 penalty,
        uint256 liquidatorReward
    );
    event Absorbed(
        address indexed account,
        bytes32 indexed market,
        address indexed backstop,
        int256 size,
        uint256 oraclePrice,
        uint256 absorbPrice,
        uint256 penalty
    );
    /// @notice Any change of the insurance fund; `balance` is the new fund.
    event InsuranceFundChanged(int256 delta, uint256 balance);

    error UnsupportedCollateralDecimals(uint8 decimals);
    error UnsupportedFeedDecimals(address feed, uint8 decimals);
    error InvalidFraction(uint256 value);
    error InvalidMarginFractions(uint256 maintenance, uint256 initial, uint256 penalty);
    error InvalidAmmDepth(uint256 depth);
    error InvalidMaxPriceAge(uint64 maxPriceAge);
    error InvalidMarketId();
    error ZeroAddress();
    error ZeroAmount();
    error ZeroSize();
    error TooManyMarkets(uint256 max);
    error MarketAlreadyListed(bytes32 market);
    error UnknownMarket(bytes32 market);
    error InvalidPrice(bytes32 market, int256 answer);
    error StalePrice(bytes32 market, uint256 updatedAt, uint256 maxPriceAge, uint256 now_);
    error NotVault(address caller);
    error NotBackstop(address caller);
    error BackstopAccount(address account);
    error NoCrossChainConsent(address account);
    error InsufficientMargin(address account, int256 equity, uint256 initialMargin);
    error InsufficientFreeCollateral(address account, uint256 requested, uint256 available);
    error SizeNotOnPosition(int256 size, int256 position);
    error NotLiquidatable(address account, int256 equity, uint256 maintenanceMargin);
    error LiquidationTooLarge(int256 size, uint256 maxSize);
    error NotAbsorbable(address account, int256 equity, uint256 initialMargin);
    error AbsorptionTooLarge(int256 size, uint256 maxSize);

    modifier onlyVault() {
        if (msg.sender != vault) revert NotVault(msg.sender);
        _;
    }

    /// @param token The collateral token (must have 6 decimals).
    /// @param owner_ Who configures markets and roles.
    /// @param liquidatorShare_ The liquidator's part of a penalty (WAD).
    constructor(IERC20 token, address owner_, uint256 liquidatorShare_) Ownable(owner_) {
        uint8 tokenDecimals = IERC20Metadata(address(token)).decimals();
        if (tokenDecimals != COLLATERAL_DECIMALS) revert UnsupportedCollateralDecimals(tokenDecimals);
        collateralToken = token;
        _setLiquidatorShare(liquidatorShare_);
    }

    // ---------------------------------------------------------------- configuration (owner)

    /// @notice Lists a new market with its feed, margin fractions, penalty, AMM depth and price age.
    function listMarket(bytes32 market, MarketConfig calldata config) external onlyOwner {
        if (market == bytes32(0)) revert InvalidMarketId();
        if (address(_markets[market].feed) != address(0)) revert MarketAlreadyListed(market);
        if (_marketIds.length >= MAX_MARKETS) revert TooManyMarkets(MAX_MARKETS);
        _marketIds.push(market);
        _configureMarket(market, config);
    }

    /// @notice Changes a listed market's configuration (the new values apply at once).
    function updateMarket(bytes32 market, MarketConfig calldata config) external onlyOwner {
        _listedMarket(market);
        _configureMarket(market, config);
    }

    /// @notice Sets the vault, the only caller of `creditMargin` and `releaseMargin`.
    function setVault(address vault_) external onlyOwner {
        if (vault_ == address(0)) revert ZeroAddress();
        vault = vault_;
        emit VaultSet(vault_);
    }

    /// @notice Sets the backstop, the only caller of `absorb` and owner of absorbed positions.
    function setBackstop(address backstop_) external onlyOwner {
        if (backstop_ == address(0)) revert ZeroAddress();
        backstop = backstop_;
        emit BackstopSet(backstop_);
    }

    /// @notice Sets the liquidator's part of each liquidation penalty (WAD, at most 1).
    function setLiquidatorShare(uint256 share) external onlyOwner {
        _setLiquidatorShare(share);
    }

    // ---------------------------------------------------------------- accounts

    /// @notice Moves `amount` collateral tokens from the caller into `account`'s margin.
    function deposit(address account, uint256 amount) external {
        if (account == address(0)) revert ZeroAddress();
        if (amount == 0) revert ZeroAmount();
        _changeCollateral(account, amount.toInt256(), CollateralReason.Deposit);
        collateralToken.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Withdraws `amount` of the caller's free collateral (what keeps it at or above
    /// initial margin) to the caller.
    function withdraw(uint256 amount) external {
        _requireFreeCollateral(msg.sender, amount);
        _changeCollateral(msg.sender, -amount.toInt256(), CollateralReason.Withdrawal);
        collateralToken.safeTransfer(msg.sender, amount);
    }

    /// @notice Lets (or stops) the vault move the caller's surplus collateral to other chains.
    function setCrossChainConsent(bool allowed) external {
        crossChainConsent[msg.sender] = allowed;
        emit CrossChainConsentSet(msg.sender, allowed);
    }

    /// @notice Changes the caller's position in `market` by `sizeDelta` at the oracle price. Any
    /// trade that does not only reduce the position must leave the account at or above initial margin.
    function trade(bytes32 market, int256 sizeDelta) external {
        if (sizeDelta == 0) revert ZeroSize();
        MarketConfig storage config = _listedMarket(market);
        uint256 price = _usePrice(market, config);
        int256 before = _positions[msg.sender][market].size;
        _trade(msg.sender, market, sizeDelta, price, PositionReason.Trade);
        bool reducesOnly = before != 0 && (before > 0) != (sizeDelta > 0) && SignedMath.abs(sizeDelta) <= SignedMath.abs(before);
        if (!reducesOnly) {
            Health memory health = _health(msg.sender, true);
            if (health.equity < health.initial.toInt256()) revert InsufficientMargin(msg.sender, health.equity, health.initial);
        }
    }

    // ---------------------------------------------------------------- vault

    /// @notice Moves `amount` collateral tokens from the vault into `account`'s margin; the vault only.
    function creditMargin(address account, uint256 amount) external onlyVault {
        if (account == address(0)) revert ZeroAddress();
        if (amount == 0) revert ZeroAmount();
        _changeCollateral(account, amount.toInt256(), CollateralReason.VaultCredit);
        collateralToken.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Moves `amount` of `account`'s free collateral to the vault; the vault only, and only
    /// for an account that consented to cross-chain margin. The account stays at or above initial margin.
    function releaseMargin(address account, uint256 amount) external onlyVault {
        if (!crossChainConsent[account]) revert NoCrossChainConsent(account);
        _requireFreeCollateral(account, amount);
        _changeCollateral(account, -amount.toInt256(), CollateralReason.VaultRelease);
        collateralToken.safeTransfer(msg.sender, amount);
    }

    // ---------------------------------------------------------------- liquidation

    /// @notice Closes `size` (same sign as the position) of `account`'s position in `market`
    /// through the market's virtual AMM. Allowed only below maintenance margin, and only up to
    /// `maxLiquidationSize` (the size that restores maintenance, or the whole position when no
    /// size can). The penalty is split between the caller and the insurance fund.
    function liquidate(address account, bytes32 market, int256 size) external {
        if (account == backstop) revert BackstopAccount(account);
        MarketConfig storage config = _listedMarket(market);
        uint256 price = _usePrice(market, config);
        Health memory health = _health(account, true);
        if (health.equity >= health.maintenance.toInt256()) revert NotLiquidatable(account, health.equity, health.maintenance);
        Position memory position = _positions[account][market];
        uint256 amount = _sizeOnPosition(size, position.size);
        uint256 maxSize = _liquidationCap(_deficit(health.equity, health.maintenance), position.size, price, config);
        if (amount > maxSize) revert LiquidationTooLarge(size, maxSize);

        (int256 realized, uint256 executionPrice, uint256 slippage) = _ammClose(amount, position, price, config.ammDepth);
        uint256 penalty = Math.mulDiv(amount * price, config.liquidationPenalty, VALUE_SCALE * WAD, Math.Rounding.Ceil);
        uint256 reward = Math.mulDiv(penalty, liquidatorShare, WAD);
        _reduce(account, market, size, realized, executionPrice, PositionReason.Liquidation);
        _changeCollateral(account, -penalty.toInt256(), CollateralReason.LiquidationPenalty);
        if (reward > 0) _changeCollateral(msg.sender, reward.toInt256(), CollateralReason.LiquidatorReward);
        _changeInsurance((penalty - reward).toInt256());
        emit Liquidated(account, market, msg.sender, size, price, executionPrice, slippage, penalty, reward);
        _coverBadDebt(account);
    }

    /// @notice Moves `size` (same sign as the position) of `account`'s position in `market` to the
    /// backstop at the oracle price minus the penalty (plus, for a short), with no market impact.
    /// The backstop only; allowed only below initial margin, and only up to `maxAbsorbSize`.
    function absorb(address account, bytes32 market, int256 size) external {
        Takeover memory takeover = _takeoverTerms(account, market);
        if (!takeover.belowInitial) revert NotAbsorbable(account, takeover.equity, takeover.initial);
        uint256 amount = _sizeOnPosition(size, takeover.position.size);
        if (amount > takeover.maxSize) revert AbsorptionTooLarge(size, takeover.maxSize);
        _takeOver(account, market, size, takeover);
    }

    /// @notice Like `absorb`, but takes over as much of `maxSize` as is allowed now instead of
    /// refusing: nothing when the account is at or above initial margin or holds no position on
    /// that side. The backstop only (the vault, when a liquidity leg arrives).
    /// @return absorbed The size taken over (signed like the position), possibly 0.
    function absorbUpTo(address account, bytes32 market, int256 maxSize) external returns (int256 absorbed) {
        Takeover memory takeover = _takeoverTerms(account, market);
        int256 position = takeover.position.size;
        if (!takeover.belowInitial || maxSize == 0 || position == 0 || (maxSize > 0) != (position > 0)) return 0;
        absorbed = SignedMath.abs(maxSize) > takeover.maxSize ? _signedLike(takeover.maxSize, position) : maxSize;
        _takeOver(account, market, absorbed, takeover);
    }

    // ---------------------------------------------------------------- views

    /// @notice Every listed market id, in listing order.
    function marketIds() external view returns (bytes32[] memory) {
        return _marketIds;
    }

    /// @notice A listed market's configuration.
    function marketConfig(bytes32 market) external view returns (MarketConfig memory) {
        return _listedMarket(market);
    }

    /// @notice A market's latest oracle price, its round and time, and whether it is fresh enough
    /// to move positions or margin.
    function marketPrice(bytes32 market) external view returns (uint256 price, uint80 roundId, uint256 updatedAt, bool fresh) {
        MarketConfig storage config = _listedMarket(market);
        (price, roundId, updatedAt) = _readPrice(market, config, false);
        fresh = block.timestamp <= updatedAt + config.maxPriceAge;
    }

    /// @notice The virtual AMM's reserves at the current oracle price: base (SIZE_SCALE units)
    /// and quote (collateral units). Their ratio is the oracle price.
    function ammReserves(bytes32 market) external view returns (uint256 baseReserve, uint256 quoteReserve) {
        MarketConfig storage config = _listedMarket(market);
        (uint256 price,,) = _readPrice(market, config, false);
        return (config.ammDepth, Math.mulDiv(config.ammDepth, price, VALUE_SCALE));
    }

    /// @notice An account's collateral (negative = bad debt not yet covered).
    function collateralOf(address account) external view returns (int256) {
        return _collateral[account];
    }

    /// @notice An account's position in a market: signed size (SIZE_SCALE) and entry price.
    function positionOf(address account, bytes32 market) external view returns (int256 size, uint256 entryPrice) {
        Position memory position = _positions[account][market];
        return (position.size, position.entryPrice);
    }

    /// @notice An account as the protocol sees it at the latest prices: collateral, equity,
    /// maintenance and initial requirement, free collateral, consent, and each open position.
    function accountOf(address account) external view returns (AccountView memory view_) {
        Health memory health = _health(account, false);
        view_.collateral = _collateral[account];
        view_.equity = health.equity;
        view_.maintenanceMargin = health.maintenance;
        view_.initialMargin = health.initial;
        view_.freeCollateral = _freeCollateral(account, health);
        view_.crossChainConsent = crossChainConsent[account];
        view_.positions = _positionViews(account);
    }

    /// @notice What `withdraw` (or the vault's `releaseMargin`) could move out of the account now.
    function freeCollateral(address account) external view returns (uint256) {
        return _freeCollateral(account, _health(account, false));
    }

    /// @notice The largest size (signed like the position) `liquidate` accepts now: 0 when the
    /// account is at or above maintenance.
    function maxLiquidationSize(address account, bytes32 market) external view returns (int256) {
        MarketConfig storage config = _listedMarket(market);
        Health memory health = _health(account, false);
        int256 position = _positions[account][market].size;
        if (position == 0 || account == backstop || health.equity >= health.maintenance.toInt256()) return 0;
        (uint256 price,,) = _readPrice(market, config, false);
        return _signedLike(_liquidationCap(_deficit(health.equity, health.maintenance), position, price, config), position);
    }

    /// @notice The largest size (signed like the position) `absorb` accepts now: 0 when the
    /// account is at or above initial margin.
    function maxAbsorbSize(address account, bytes32 market) external view returns (int256) {
        MarketConfig storage config = _listedMarket(market);
        Health memory health = _health(account, false);
        int256 position = _positions[account][market].size;
        if (position == 0 || account == backstop || health.equity >= health.initial.toInt256()) return 0;
        (uint256 price,,) = _readPrice(market, config, false);
        uint256 absorbPrice = _absorbPrice(price, config.liquidationPenalty, position > 0);
        return _signedLike(_absorbCap(_deficit(health.equity, health.initial), position, price, absorbPrice, config), position);
    }

    // ---------------------------------------------------------------- internals: takeover

    /// @dev Where a backstop takeover of `account`'s position in `market` stands, at a fresh price.
    function _takeoverTerms(address account, bytes32 market) private view returns (Takeover memory takeover) {
        if (msg.sender != backstop) revert NotBackstop(msg.sender);
        if (account == backstop) revert BackstopAccount(account);
        MarketConfig storage config = _listedMarket(market);
        (takeover.price, takeover.roundId, takeover.updatedAt) = _readPrice(market, config, true);
        Health memory health = _health(account, true);
        (takeover.equity, takeover.initial) = (health.equity, health.initial);
        takeover.belowInitial = health.equity < health.initial.toInt256();
        takeover.position = _positions[account][market];
        if (!takeover.belowInitial || takeover.position.size == 0) return takeover;
        takeover.absorbPrice = _absorbPrice(takeover.price, config.liquidationPenalty, takeover.position.size > 0);
        takeover.maxSize = _absorbCap(_deficit(health.equity, health.initial), takeover.position.size, takeover.price, takeover.absorbPrice, config);
    }

    /// @dev The account books the absorb price against its entry; the backstop opens at it.
    function _takeOver(address account, bytes32 market, int256 size, Takeover memory takeover) private {
        emit PriceUsed(market, takeover.roundId, takeover.price, takeover.updatedAt);
        uint256 absorbPrice = takeover.absorbPrice;
        int256 realized = _floorDiv(size * (absorbPrice.toInt256() - uint256(takeover.position.entryPrice).toInt256()), VALUE_SCALE);
        _reduce(account, market, size, realized, absorbPrice, PositionReason.Absorption);
        _trade(msg.sender, market, size, absorbPrice, PositionReason.BackstopTakeover);
        uint256 gap = takeover.price > absorbPrice ? takeover.price - absorbPrice : absorbPrice - takeover.price;
        uint256 penalty = Math.mulDiv(SignedMath.abs(size), gap, VALUE_SCALE, Math.Rounding.Ceil);
        emit Absorbed(account, market, msg.sender, size, takeover.price, absorbPrice, penalty);
        _coverBadDebt(account);
    }

    // ---------------------------------------------------------------- internals: state

    function _configureMarket(bytes32 market, MarketConfig calldata config) private {
        if (address(config.feed) == address(0)) revert ZeroAddress();
        uint8 feedDecimals = config.feed.decimals();
        if (feedDecimals != PRICE_DECIMALS) revert UnsupportedFeedDecimals(address(config.feed), feedDecimals);
        // A penalty below maintenance is what lets a partial close or takeover restore health.
        if (
            config.liquidationPenalty == 0 || config.liquidationPenalty >= config.maintenanceMarginFraction
                || config.maintenanceMarginFraction >= config.initialMarginFraction || config.initialMarginFraction >= WAD
        ) revert InvalidMarginFractions(config.maintenanceMarginFraction, config.initialMarginFraction, config.liquidationPenalty);
        if (config.ammDepth == 0 || config.ammDepth > MAX_AMM_DEPTH) revert InvalidAmmDepth(config.ammDepth);
        if (config.maxPriceAge == 0) revert InvalidMaxPriceAge(config.maxPriceAge);
        _markets[market] = config;
        emit MarketConfigured(
            market,
            address(config.feed),
            config.maintenanceMarginFraction,
            config.initialMarginFraction,
            config.liquidationPenalty,
            config.ammDepth,
            config.maxPriceAge
        );
    }

    function _setLiquidatorShare(uint256 share) private {
        if (share > WAD) revert InvalidFraction(share);
        liquidatorShare = share;
        emit LiquidatorShareSet(share);
    }

    function _changeCollateral(address account, int256 delta, CollateralReason reason) private {
        int256 balance = _collateral[account] + delta;
        _collateral[account] = balance;
        emit CollateralChanged(account, reason, delta, balance);
    }

    function _changeInsurance(int256 delta) private {
        uint256 balance = (insuranceFund.toInt256() + delta).toUint256();
        insuranceFund = balance;
        emit InsuranceFundChanged(delta, balance);
    }

    /// @dev Changes a position by `delta` at `price`: adding averages the entry (rounded against
    /// the account), reducing books the PnL of the closed part, crossing zero reopens the rest at `price`.
    function _trade(address account, bytes32 market, int256 delta, uint256 price, PositionReason reason) private {
        Position memory position = _positions[account][market];
        int256 size = position.size;
        uint256 entry = position.entryPrice;
        int256 newSize = size + delta;
        int256 realized;
        if (size == 0 || (size > 0) == (delta > 0)) {
            uint256 cost = SignedMath.abs(size) * entry + SignedMath.abs(delta) * price;
            entry = Math.mulDiv(cost, 1, SignedMath.abs(newSize), newSize > 0 ? Math.Rounding.Ceil : Math.Rounding.Floor);
        } else {
            int256 closed = _signedLike(Math.min(SignedMath.abs(delta), SignedMath.abs(size)), size);
            realized = _floorDiv(closed * (price.toInt256() - entry.toInt256()), VALUE_SCALE);
            if (newSize == 0) entry = 0;
            else if ((newSize > 0) != (size > 0)) entry = price;
        }
        _storePosition(account, market, newSize, entry, delta, price, realized, reason);
    }

    /// @dev Closes `size` (same sign as the position) with a realized PnL computed by the caller.
    function _reduce(address account, bytes32 market, int256 size, int256 realized, uint256 price, PositionReason reason) private {
        Position memory position = _positions[account][market];
        int256 newSize = position.size - size;
        uint256 entry = newSize == 0 ? 0 : position.entryPrice;
        _storePosition(account, market, newSize, entry, -size, price, realized, reason);
    }

    function _storePosition(
        address account,
        bytes32 market,
        int256 newSize,
        uint256 entry,
        int256 delta,
        uint256 price,
        int256 realized,
        PositionReason reason
    ) private {
        _positions[account][market] = Position({size: newSize.toInt128(), entryPrice: entry.toUint128()});
        emit PositionChanged(account, market, reason, delta, newSize, entry, price, realized);
        if (realized != 0) _changeCollateral(account, realized, CollateralReason.RealizedPnl);
    }

    /// @dev An account left with no position and negative collateral is bad debt: the insurance
    /// fund covers what it can.
    function _coverBadDebt(address account) private {
        int256 collateral = _collateral[account];
        if (collateral >= 0 || _hasPosition(account)) return;
        uint256 cover = Math.min(uint256(-collateral), insuranceFund);
        if (cover == 0) return;
        _changeInsurance(-cover.toInt256());
        _changeCollateral(account, cover.toInt256(), CollateralReason.BadDebtCover);
    }

    // ---------------------------------------------------------------- internals: reads and math

    function _listedMarket(bytes32 market) private view returns (MarketConfig storage config) {
        config = _markets[market];
        if (address(config.feed) == address(0)) revert UnknownMarket(market);
    }

    function _readPrice(bytes32 market, MarketConfig storage config, bool requireFresh)
        private
        view
        returns (uint256 price, uint80 roundId, uint256 updatedAt)
    {
        int256 answer;
        (roundId, answer,, updatedAt,) = config.feed.latestRoundData();
        if (answer <= 0) revert InvalidPrice(market, answer);
        if (requireFresh && block.timestamp > updatedAt + config.maxPriceAge) {
            revert StalePrice(market, updatedAt, config.maxPriceAge, block.timestamp);
        }
        price = uint256(answer);
    }

    /// @dev A fresh price that moves a position: recorded as `PriceUsed`.
    function _usePrice(bytes32 market, MarketConfig storage config) private returns (uint256 price) {
        uint80 roundId;
        uint256 updatedAt;
        (price, roundId, updatedAt) = _readPrice(market, config, true);
        emit PriceUsed(market, roundId, price, updatedAt);
    }

    /// @dev Equity and requirements, summed over markets before one rounding each.
    function _health(address account, bool requireFresh) private view returns (Health memory health) {
        int256 pnl;
        uint256 maintenance;
        uint256 initial;
        uint256 count = _marketIds.length;
        for (uint256 i; i < count; ++i) {
            bytes32 market = _marketIds[i];
            Position memory position = _positions[account][market];
            if (position.size == 0) continue;
            MarketConfig storage config = _markets[market];
            (uint256 price,,) = _readPrice(market, config, requireFresh);
            pnl += position.size * (price.toInt256() - uint256(position.entryPrice).toInt256());
            uint256 notional = SignedMath.abs(position.size) * price;
            maintenance += notional * config.maintenanceMarginFraction;
            initial += notional * config.initialMarginFraction;
        }
        health.equity = _collateral[account] + _floorDiv(pnl, VALUE_SCALE);
        health.maintenance = Math.ceilDiv(maintenance, VALUE_SCALE * WAD);
        health.initial = Math.ceilDiv(initial, VALUE_SCALE * WAD);
    }

    function _positionViews(address account) private view returns (PositionView[] memory views) {
        uint256 count = _marketIds.length;
        PositionView[] memory all = new PositionView[](count);
        uint256 open;
        for (uint256 i; i < count; ++i) {
            bytes32 market = _marketIds[i];
            Position memory position = _positions[account][market];
            if (position.size == 0) continue;
            MarketConfig storage config = _markets[market];
            (uint256 price,,) = _readPrice(market, config, false);
            uint256 notional = SignedMath.abs(position.size) * price;
            all[open++] = PositionView({
                market: market,
                size: position.size,
                entryPrice: position.entryPrice,
                price: price,
                unrealizedPnl: _floorDiv(position.size * (price.toInt256() - uint256(position.entryPrice).toInt256()), VALUE_SCALE),
                maintenanceMargin: Math.mulDiv(notional, config.maintenanceMarginFraction, VALUE_SCALE * WAD, Math.Rounding.Ceil),
                initialMargin: Math.mulDiv(notional, config.initialMarginFraction, VALUE_SCALE * WAD, Math.Rounding.Ceil)
            });
        }
        views = new PositionView[](open);
        for (uint256 i; i < open; ++i) views[i] = all[i];
    }

    function _hasPosition(address account) private view returns (bool) {
        uint256 count = _marketIds.length;
        for (uint256 i; i < count; ++i) if (_positions[account][_marketIds[i]].size != 0) return true;
        return false;
    }

    /// @dev Free collateral: min(collateral, equity - initial margin), never below zero.
    function _freeCollateral(address account, Health memory health) private view returns (uint256) {
        int256 collateral = _collateral[account];
        int256 surplus = health.equity - health.initial.toInt256();
        int256 free = collateral < surplus ? collateral : surplus;
        return free > 0 ? uint256(free) : 0;
    }

    function _requireFreeCollateral(address account, uint256 amount) private view {
        if (amount == 0) revert ZeroAmount();
        uint256 free = _freeCollateral(account, _health(account, true));
        if (amount > free) revert InsufficientFreeCollateral(account, amount, free);
    }

    function _deficit(int256 equity, uint256 requirement) private pure returns (uint256) {
        return (requirement.toInt256() - equity).toUint256();
    }

    /// @dev |size|, after checking it is non-zero, on the position's side and no larger than it.
    function _sizeOnPosition(int256 size, int256 position) private pure returns (uint256) {
        if (size == 0) revert ZeroSize();
        if (position == 0 || (size > 0) != (position > 0) || SignedMath.abs(size) > SignedMath.abs(position)) {
            revert SizeNotOnPosition(size, position);
        }
        return SignedMath.abs(size);
    }

    /// @dev Closing `amount` of `position` through the AMM re-centred on `price` with depth L:
    /// a long sells for P L s / (L + s), a short buys back for P L s / (L - s). Returns the
    /// realized PnL, the average execution price and the slippage against the oracle price.
    function _ammClose(uint256 amount, Position memory position, uint256 price, uint256 depth)
        private
        pure
        returns (int256 realized, uint256 executionPrice, uint256 slippage)
    {
        uint256 notional = amount * price;
        uint256 cost = amount * position.entryPrice;
        uint256 quote;
        if (position.size > 0) {
            quote = Math.mulDiv(notional, depth, depth + amount);
            realized = _floorDiv(quote.toInt256() - cost.toInt256(), VALUE_SCALE);
            slippage = Math.ceilDiv(notional - quote, VALUE_SCALE);
        } else {
            quote = Math.mulDiv(notional, depth, depth - amount, Math.Rounding.Ceil);
            realized = _floorDiv(cost.toInt256() - quote.toInt256(), VALUE_SCALE);
            slippage = Math.ceilDiv(quote - notional, VALUE_SCALE);
        }
        executionPrice = quote / amount;
    }

    /// @dev The smallest close that restores maintenance, from the closed form: with a = m - penalty,
    /// h = deficit / P (base units) and depth L, a long needs the smaller root of
    /// (1 - a) s^2 - (a L - h) s + h L = 0, a short of (1 + a) s^2 - (a L + h) s + h L = 0, taken
    /// as 2 h L / (B + sqrt(B^2 - 4 A h L)). Every rounding makes s larger. When no close restores
    /// maintenance, the whole position (for a short, what the AMM can supply).
    function _liquidationCap(uint256 deficit, int256 position, uint256 price, MarketConfig storage config)
        private
        view
        returns (uint256)
    {
        uint256 held = SignedMath.abs(position);
        uint256 depth = config.ammDepth;
        uint256 whole = position > 0 ? held : Math.min(held, depth - 1);
        uint256 h = Math.mulDiv(deficit + HEALTH_ROUNDING_MARGIN, VALUE_SCALE, price, Math.Rounding.Ceil);
        if (h >= depth) return whole;
        uint256 a = config.maintenanceMarginFraction - config.liquidationPenalty;
        uint256 aDepth = Math.mulDiv(a, depth, WAD);
        uint256 b;
        uint256 quadratic;
        if (position > 0) {
            if (aDepth <= h) return whole;
            (b, quadratic) = (aDepth - h, WAD - a);
        } else {
            (b, quadratic) = (aDepth + h, WAD + a);
        }
        uint256 hDepth = h * depth;
        uint256 fourAC = Math.mulDiv(4 * quadratic, hDepth, WAD, Math.Rounding.Ceil);
        uint256 bSquared = b * b;
        if (bSquared < fourAC) return whole;
        uint256 size = Math.ceilDiv(2 * hDepth, b + Math.sqrt(bSquared - fourAC));
        if (size >= whole) return whole;
        return size;
    }

    /// @dev The smallest takeover that restores initial margin: each unit taken over at the
    /// absorb price frees i P of requirement and costs |P - absorbPrice| of equity.
    function _absorbCap(uint256 deficit, int256 position, uint256 price, uint256 absorbPrice, MarketConfig storage config)
        private
        view
        returns (uint256)
    {
        uint256 held = SignedMath.abs(position);
        uint256 relief = Math.mulDiv(price, config.initialMarginFraction, WAD);
        uint256 cost = price > absorbPrice ? price - absorbPrice : absorbPrice - price;
        if (relief <= cost) return held;
        return Math.min(held, Math.ceilDiv((deficit + HEALTH_ROUNDING_MARGIN) * VALUE_SCALE, relief - cost));
    }

    /// @dev The oracle price moved against the account by the penalty: lower for a long, higher for a short.
    function _absorbPrice(uint256 price, uint256 penalty, bool long) private pure returns (uint256) {
        return long ? Math.mulDiv(price, WAD - penalty, WAD) : Math.mulDiv(price, WAD + penalty, WAD, Math.Rounding.Ceil);
    }

    function _signedLike(uint256 amount, int256 sign) private pure returns (int256) {
        return sign > 0 ? amount.toInt256() : -amount.toInt256();
    }

    /// @dev Division rounding toward negative infinity (Solidity's rounds toward zero).
    function _floorDiv(int256 numerator, uint256 denominator) private pure returns (int256 quotient) {
        int256 d = denominator.toInt256();
        quotient = numerator / d;
        if (numerator % d != 0 && numerator < 0) quotient -= 1;
    }
}

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
/// Below maintenance anyone may also put (part of) a position up for a Dutch auction (Maker's
/// clipper): it starts at oracle x `buf` (a short's lot at oracle / `buf`), the price moves by
/// `cut` every `step` seconds toward the takers' favour, and it must be reset from a fresh oracle
/// price once `tail` seconds have passed or `cut^steps` fell below `cusp`. A keeper `take`s part or
/// all of the lot at the auction price, up to what restores maintenance: it takes the position
/// over at that price (and must hold initial margin for it), the account books it, pays the
/// liquidation penalty (split as in `liquidate`), and must not end further below maintenance.
///
/// The backstop sells (or buys back) what it absorbed through the market's AMM with
/// `unwindBackstop`; within one block the unwinds of a market move on one curve, and the pool's
/// price may end at most `unwindImpactBps` away from the oracle.
///
/// Limits (dYdX v4's per-block limits, Maker's `Hole`): the notional liquidated per market per
/// block (liquidations, absorptions, auction takes) and the insurance fund's loss per block are
/// capped; a guardian (or the owner) may pause liquidations, absorptions, auctions, unwinds and the
/// vault's legs, never deposits, withdrawals or trades. Caps default to off, the unwind budget to
/// DEFAULT_UNWIND_IMPACT_BPS, and a market without auction parameters refuses auctions.
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
    /// @notice Scale of basis points.
    uint256 public constant BPS = 10_000;
    /// @notice How far (bps) a block's unwinds may move a market's pool price when the owner set no budget.
    uint256 public constant DEFAULT_UNWIND_IMPACT_BPS = 100;

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
        BackstopTakeover,
        /// The account's side of an auction take: closed at the auction price.
        AuctionTake,
        /// The taker's side of an auction take: opened at the auction price.
        AuctionTakeover,
        BackstopUnwind
    }

    /// @notice Why an auction closed.
    enum AuctionEnd {
        /// The whole lot was taken.
        Filled,
        /// A take brought the account back to maintenance.
        Restored,
        /// The account recovered, or its position on the lot's side is gone.
        Canceled
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
        /// How far above maintenance (a fraction of notional, WAD) a liquidation or an auction take
        /// may restore the account once it is below maintenance, so that the next tick does not put it
        /// under again: 0 restores maintenance only, initial - maintenance at most (Mango v4
        /// liquidates up to initial health; Drift up to maintenance plus a buffer).
        uint256 liquidationBuffer;
        /// Virtual base reserve of the market's AMM (SIZE_SCALE units).
        uint256 ammDepth;
    }

    /// @notice A market's Dutch auction parameters (Maker's clipper and its stairstep abacus).
    struct AuctionConfig {
        /// Start price over the oracle (WAD, at least 1).
        uint256 buf;
        /// Price factor per step (WAD, in (0, 1)).
        uint256 cut;
        /// Reset once cut^steps falls below this (WAD, in (0, 1]).
        uint256 cusp;
        /// Seconds per step (> 0).
        uint64 step;
        /// Reset once more than this many seconds passed since the (re)start (> 0).
        uint64 tail;
    }

    /// @notice Per-market limits; 0 in storage means the default (no cap, DEFAULT_UNWIND_IMPACT_BPS).
    struct MarketLimits {
        /// Notional (collateral units, at the oracle) liquidated, absorbed and auctioned per block.
        uint256 maxNotionalPerBlock;
        /// How far (bps of the oracle) a block's unwinds may move the pool price, in (0, BPS).
        uint256 unwindImpactBps;
    }

    /// @notice What is left of this block's limits of a market, and the limits themselves.
    struct LimitsView {
        uint256 maxNotionalPerBlock;
        uint256 notionalLeft;
        uint256 maxInsuranceLossPerBlock;
        uint256 insuranceLossLeft;
        uint256 unwindImpactBps;
        /// Base units (SIZE_SCALE) the backstop may still sell into, or buy from, the pool this block.
        uint256 unwindSellLeft;
        uint256 unwindBuyLeft;
        bool paused;
    }

    struct AuctionView {
        uint256 id;
        /// Signed like the position; 0 when no auction is open.
        int256 lot;
        uint256 top;
        uint256 startedAt;
        uint256 price;
        bool needsReset;
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
        /// What a liquidation or a take may restore: sum |p| P (m + liquidationBuffer), at most `initial`.
        uint256 closeLevel;
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

    /// @dev An open auction: its lot (signed like the position, 0 = none) and start price and time.
    struct Auction {
        uint64 id;
        uint64 tic;
        int128 lot;
        uint256 top;
    }

    /// @dev Usage of a per-block limit: the block it counts for and the amount (signed for unwinds).
    struct BlockUsage {
        uint64 blockNumber;
        int192 amount;
    }

    /// @dev A take's prices (auction and oracle), the lot it takes from, the account's equity minus
    /// maintenance before it, and the penalty it pays.
    struct TakeTerms {
        uint256 auctionPrice;
        uint256 price;
        int256 lot;
        int256 surplusBefore;
        uint256 penalty;
        uint256 reward;
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
    /// @notice Who may pause and unpause, besides the owner.
    address public guardian;
    /// @notice While true: no liquidation, absorption, auction, unwind or vault leg.
    bool public paused;
    /// @notice The insurance fund's loss (bad debt covered) allowed per block; 0 = no cap.
    uint256 private _maxInsuranceLossPerBlock;
    /// @notice Auctions started so far (the last auction's id).
    uint256 public auctionCount;

    bytes32[] private _marketIds;
    mapping(bytes32 market => MarketConfig) private _markets;
    mapping(address account => int256) private _collateral;
    mapping(address account => mapping(bytes32 market => Position)) private _positions;
    mapping(bytes32 market => AuctionConfig) private _auctionConfigs;
    mapping(address account => mapping(bytes32 market => Auction)) private _auctions;
    mapping(bytes32 market => MarketLimits) private _limits;
    mapping(bytes32 market => BlockUsage) private _notionalUsed;
    /// @dev Base units sold into (+) or bought from (-) a market's pool by this block's unwinds.
    mapping(bytes32 market => BlockUsage) private _unwindFlow;
    BlockUsage private _insuranceLoss;

    event MarketConfigured(
        bytes32 indexed market,
        address feed,
        uint256 maintenanceMarginFraction,
        uint256 initialMarginFraction,
        uint256 liquidationPenalty,
        uint256 ammDepth,
        uint64 maxPriceAge,
        uint256 liquidationBuffer
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
    event GuardianSet(address indexed guardian);
    event PausedSet(bool paused, address indexed by);
    event AuctionConfigured(bytes32 indexed market, uint256 buf, uint256 cut, uint256 cusp, uint64 step, uint64 tail);
    event MarketLimitsSet(bytes32 indexed market, uint256 maxNotionalPerBlock, uint256 unwindImpactBps);
    event InsuranceLossCapSet(uint256 maxLossPerBlock);
    /// @notice An auction of `lot` of `account`'s position opened at `top` (oracle `oraclePrice`).
    event AuctionStarted(uint256 indexed id, address indexed account, bytes32 indexed market, address keeper, int256 lot, uint256 top, uint256 oraclePrice);
    /// @notice An auction restarted from a fresh oracle price (its lot cut to the position).
    event AuctionReset(uint256 indexed id, address indexed account, bytes32 indexed market, address keeper, int256 lot, uint256 top, uint256 oraclePrice);
    /// @notice `taker` took `size` at `price`; `lotLeft` stays open (0 when the auction closed).
    event AuctionTaken(
        uint256 indexed id,
        address indexed account,
        bytes32 indexed market,
        address taker,
        int256 size,
        uint256 price,
        uint256 oraclePrice,
        uint256 penalty,
        uint256 takerReward,
        int256 lotLeft
    );
    event AuctionClosed(uint256 indexed id, address indexed account, bytes32 indexed market, AuctionEnd reason, int256 lotLeft);
    /// @notice The backstop closed `size` through the AMM; `poolPrice` is the pool's price after
    /// this block's unwinds, `proceeds` what it received (long) or paid (short), collateral units.
    event BackstopUnwound(
        bytes32 indexed market,
        address indexed backstop,
        int256 size,
        uint256 oraclePrice,
        uint256 executionPrice,
        uint256 poolPrice,
        uint256 proceeds,
        int256 slippage,
        int256 realizedPnl
    );
    /// @notice Bad debt the insurance fund did not cover now for this block's loss cap; `coverBadDebt` covers it later.
    event BadDebtCoverDeferred(address indexed account, uint256 uncovered);

    error UnsupportedCollateralDecimals(uint8 decimals);
    error UnsupportedFeedDecimals(address feed, uint8 decimals);
    error InvalidFraction(uint256 value);
    error InvalidMarginFractions(uint256 maintenance, uint256 initial, uint256 penalty);
    error InvalidLiquidationBuffer(uint256 buffer, uint256 maintenance, uint256 initial);
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
    error Paused();
    error NotGuardian(address caller);
    error InvalidAuctionBuf(uint256 buf);
    error InvalidAuctionCut(uint256 cut);
    error InvalidAuctionCusp(uint256 cusp);
    error InvalidAuctionStep(uint64 step);
    error InvalidAuctionTail(uint64 tail);
    error InvalidLiquidationCap(uint256 cap);
    error InvalidInsuranceLossCap(uint256 cap);
    error InvalidUnwindImpact(uint256 bps);
    error AuctionsNotConfigured(bytes32 market);
    error AuctionActive(address account, bytes32 market, uint256 id);
    error NoAuction(address account, bytes32 market);
    error AuctionNeedsReset(address account, bytes32 market);
    error AuctionResetNotDue(address account, bytes32 market);
    error AuctionStillNeeded(address account, int256 equity, uint256 maintenanceMargin);
    error AuctionPriceBeyondLimit(uint256 price, uint256 limitPrice);
    error TakerIsAccount(address account);
    /// @notice A take would leave the account's equity minus maintenance lower than before.
    error AuctionTakeWorsensAccount(address account, int256 surplusBefore, int256 surplusAfter);
    error LiquidationCapExceeded(bytes32 market, uint256 notional, uint256 notionalLeft);
    error InsuranceLossCapExceeded(uint256 loss, uint256 lossLeft);
    error NoBadDebt(address account);
    error UnwindImpactExceeded(bytes32 market, int256 size, uint256 sizeLeft);
    error UnwindPriceBeyondLimit(uint256 executionPrice, uint256 limitPrice);

    modifier onlyVault() {
        if (msg.sender != vault) revert NotVault(msg.sender);
        _;
    }

    modifier whenNotPaused() {
        if (paused) revert Paused();
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

    /// @notice Sets who may pause and unpause besides the owner (zero: the owner only).
    function setGuardian(address guardian_) external onlyOwner {
        guardian = guardian_;
        emit GuardianSet(guardian_);
    }

    /// @notice Pauses or resumes liquidations, absorptions, auctions, unwinds and the vault's
    /// legs; the guardian or the owner.
    function setPaused(bool paused_) external {
        if (msg.sender != guardian && msg.sender != owner()) revert NotGuardian(msg.sender);
        paused = paused_;
        emit PausedSet(paused_, msg.sender);
    }

    /// @notice Sets a market's Dutch auction parameters (see AuctionConfig); open auctions follow them at once.
    function setAuctionConfig(bytes32 market, AuctionConfig calldata config) external onlyOwner {
        _listedMarket(market);
        if (config.buf < WAD) revert InvalidAuctionBuf(config.buf);
        if (config.cut == 0 || config.cut >= WAD) revert InvalidAuctionCut(config.cut);
        if (config.cusp == 0 || config.cusp > WAD) revert InvalidAuctionCusp(config.cusp);
        if (config.step == 0) revert InvalidAuctionStep(config.step);
        if (config.tail == 0) revert InvalidAuctionTail(config.tail);
        _auctionConfigs[market] = config;
        emit AuctionConfigured(market, config.buf, config.cut, config.cusp, config.step, config.tail);
    }

    /// @notice Sets a market's per-block notional cap (type(uint256).max: none) and unwind impact budget (bps).
    function setMarketLimits(bytes32 market, MarketLimits calldata limits) external onlyOwner {
        _listedMarket(market);
        if (limits.maxNotionalPerBlock == 0) revert InvalidLiquidationCap(0);
        if (limits.unwindImpactBps == 0 || limits.unwindImpactBps >= BPS) revert InvalidUnwindImpact(limits.unwindImpactBps);
        _limits[market] = limits;
        _warmUsage(_notionalUsed[market]);
        emit MarketLimitsSet(market, limits.maxNotionalPerBlock, limits.unwindImpactBps);
    }

    /// @notice Sets the insurance fund's loss allowed per block (type(uint256).max: none).
    function setInsuranceLossCap(uint256 maxLossPerBlock) external onlyOwner {
        if (maxLossPerBlock == 0) revert InvalidInsuranceLossCap(0);
        _maxInsuranceLossPerBlock = maxLossPerBlock;
        _warmUsage(_insuranceLoss);
        emit InsuranceLossCapSet(maxLossPerBlock);
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
        _requireMarginUnlessReducing(msg.sender, before, sizeDelta);
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
    function releaseMargin(address account, uint256 amount) external onlyVault whenNotPaused {
        if (!crossChainConsent[account]) revert NoCrossChainConsent(account);
        _requireFreeCollateral(account, amount);
        _changeCollateral(account, -amount.toInt256(), CollateralReason.VaultRelease);
        collateralToken.safeTransfer(msg.sender, amount);
    }

    // ---------------------------------------------------------------- liquidation

    /// @notice Closes `size` (same sign as the position) of `account`'s position in `market`
    /// through the market's virtual AMM. Allowed only below maintenance margin, and only up to
    /// `maxLiquidationSize` (the size that restores the close level, maintenance plus the
    /// market's `liquidationBuffer`, or the whole position when no size can). The penalty is split between the caller and the insurance fund. Its notional
    /// counts against the market's per-block cap: beyond what is left it is refused (size it
    /// from `maxLiquidationSize`, which is capped to it).
    function liquidate(address account, bytes32 market, int256 size) external whenNotPaused {
        if (account == backstop) revert BackstopAccount(account);
        MarketConfig storage config = _listedMarket(market);
        uint256 price = _usePrice(market, config);
        Health memory health = _requireLiquidatable(account);
        Position memory position = _positions[account][market];
        uint256 amount = _sizeOnPosition(size, position.size);
        uint256 maxSize = _liquidationCap(_deficit(health.equity, health.closeLevel), position.size, price, config);
        if (amount > maxSize) revert LiquidationTooLarge(size, maxSize);
        _useNotional(market, amount, price);

        (int256 realized, uint256 executionPrice, uint256 slippage) = _ammClose(amount, position, price, config.ammDepth);
        _reduce(account, market, size, realized, executionPrice, PositionReason.Liquidation);
        (uint256 penalty, uint256 reward) = _chargePenalty(account, amount, price, config.liquidationPenalty);
        emit Liquidated(account, market, msg.sender, size, price, executionPrice, slippage, penalty, reward);
        _coverBadDebt(account);
    }

    /// @notice Moves `size` (same sign as the position) of `account`'s position in `market` to the
    /// backstop at the oracle price minus the penalty (plus, for a short), with no market impact.
    /// The backstop only; allowed only below initial margin, and only up to `maxAbsorbSize`
    /// (which counts the per-block notional cap: beyond it the call is refused).
    function absorb(address account, bytes32 market, int256 size) external whenNotPaused {
        Takeover memory takeover = _takeoverTerms(account, market);
        if (!takeover.belowInitial) revert NotAbsorbable(account, takeover.equity, takeover.initial);
        uint256 amount = _sizeOnPosition(size, takeover.position.size);
        if (amount > takeover.maxSize) revert AbsorptionTooLarge(size, takeover.maxSize);
        _useNotional(market, amount, takeover.price);
        _takeOver(account, market, size, takeover);
    }

    /// @notice Like `absorb`, but takes over as much of `maxSize` as is allowed now instead of
    /// refusing: nothing when the account is at or above initial margin or holds no position on
    /// that side, and no more than the per-block notional cap leaves. The backstop only (the
    /// vault, when a liquidity leg arrives).
    /// @return absorbed The size taken over (signed like the position), possibly 0.
    function absorbUpTo(address account, bytes32 market, int256 maxSize) external whenNotPaused returns (int256 absorbed) {
        Takeover memory takeover = _takeoverTerms(account, market);
        int256 position = takeover.position.size;
        if (!takeover.belowInitial || maxSize == 0 || position == 0 || (maxSize > 0) != (position > 0)) return 0;
        uint256 amount = Math.min(Math.min(SignedMath.abs(maxSize), takeover.maxSize), _sizeWithinNotional(market, takeover.price));
        if (amount == 0) return 0;
        _useNotional(market, amount, takeover.price);
        absorbed = _signedLike(amount, position);
        _takeOver(account, market, absorbed, takeover);
    }

    /// @notice Covers what the insurance fund can of a closed account's bad debt (negative
    /// collateral and no position), within this block's loss cap: what a liquidation deferred.
    function coverBadDebt(address account) external whenNotPaused {
        int256 collateral = _collateral[account];
        if (collateral >= 0 || _hasPosition(account)) revert NoBadDebt(account);
        uint256 left = _insuranceLossLeft();
        if (left == 0) revert InsuranceLossCapExceeded(uint256(-collateral), 0);
        _coverBadDebt(account);
    }

    // ---------------------------------------------------------------- Dutch auctions

    /// @notice Opens an auction of `size` (same sign as the position, at most all of it) of
    /// `account`'s position in `market`, which must be below maintenance. Anyone may start one.
    /// @return id The auction's id (in every event of it).
    function startAuction(address account, bytes32 market, int256 size) external whenNotPaused returns (uint256 id) {
        if (account == backstop) revert BackstopAccount(account);
        (MarketConfig storage config, AuctionConfig storage auctionConfig) = _auctionMarket(market);
        Auction storage auction = _auctions[account][market];
        if (auction.lot != 0) revert AuctionActive(account, market, auction.id);
        uint256 price = _usePrice(market, config);
        _requireLiquidatable(account);
        _sizeOnPosition(size, _positions[account][market].size);
        id = ++auctionCount;
        uint256 top = _auctionTop(price, auctionConfig.buf, size > 0);
        _auctions[account][market] = Auction({id: id.toUint64(), tic: uint64(block.timestamp), lot: size.toInt128(), top: top});
        emit AuctionStarted(id, account, market, msg.sender, size, top, price);
    }

    /// @notice Restarts an auction that needs it (past `tail`, or below `cusp`) from a fresh
    /// oracle price, its lot cut to what is left of the position. Anyone; the account must still
    /// be below maintenance (otherwise `cancelAuction`).
    function redoAuction(address account, bytes32 market) external whenNotPaused {
        (MarketConfig storage config, AuctionConfig storage auctionConfig) = _auctionMarket(market);
        Auction storage auction = _openAuction(account, market);
        (, bool needsReset) = _auctionPrice(auction, auctionConfig);
        if (!needsReset) revert AuctionResetNotDue(account, market);
        uint256 price = _usePrice(market, config);
        _requireLiquidatable(account);
        int256 lot = _lotOnPosition(auction.lot, _positions[account][market].size);
        uint256 top = _auctionTop(price, auctionConfig.buf, lot > 0);
        (auction.lot, auction.top, auction.tic) = (lot.toInt128(), top, uint64(block.timestamp));
        emit AuctionReset(auction.id, account, market, msg.sender, lot, top, price);
    }

    /// @notice Closes an auction that is no longer needed: the account is at or above
    /// maintenance, or holds nothing on the lot's side. Anyone.
    function cancelAuction(address account, bytes32 market) external {
        Auction storage auction = _openAuction(account, market);
        int256 position = _positions[account][market].size;
        if (position != 0 && (position > 0) == (auction.lot > 0)) {
            Health memory health = _health(account, true);
            if (health.equity < health.maintenance.toInt256()) revert AuctionStillNeeded(account, health.equity, health.maintenance);
        }
        _closeAuction(account, market, AuctionEnd.Canceled);
    }

    /// @notice Takes up to `maxSize` (signed like the lot) of an open auction at its current
    /// price, which must be at most `limitPrice` for a long lot (at least, for a short). The
    /// caller takes the position over at that price and must then hold initial margin (unless it
    /// only reduced a position of its own); the account books the price and pays the penalty,
    /// the caller getting the liquidator's share. The size is cut to the lot, the position, what
    /// restores the close level at this price and what the per-block notional cap leaves. Refused
    /// when the account is at or above maintenance, and when it would end with equity minus
    /// maintenance lower than before (`AuctionTakeWorsensAccount`).
    /// @return taken The size taken (signed like the lot).
    function take(address account, bytes32 market, int256 maxSize, uint256 limitPrice) external whenNotPaused returns (int256 taken) {
        (MarketConfig storage config, AuctionConfig storage auctionConfig) = _auctionMarket(market);
        Auction storage auction = _openAuction(account, market);
        if (msg.sender == account) revert TakerIsAccount(account);
        if (maxSize == 0) revert ZeroSize();
        if ((maxSize > 0) != (auction.lot > 0)) revert SizeNotOnPosition(maxSize, auction.lot);
        TakeTerms memory terms;
        bool needsReset;
        (terms.auctionPrice, needsReset) = _auctionPrice(auction, auctionConfig);
        if (needsReset) revert AuctionNeedsReset(account, market);
        if (auction.lot > 0 ? terms.auctionPrice > limitPrice : terms.auctionPrice < limitPrice) {
            revert AuctionPriceBeyondLimit(terms.auctionPrice, limitPrice);
        }
        terms.price = _usePrice(market, config);
        Health memory before = _requireLiquidatable(account);
        terms.surplusBefore = before.equity - before.maintenance.toInt256();
        terms.lot = _lotOnPosition(auction.lot, _positions[account][market].size);
        taken = _takeSize(market, maxSize, _deficit(before.equity, before.closeLevel), terms, config);
        (terms.penalty, terms.reward) = _settleTake(account, market, taken, terms, config);

        Health memory afterTake = _health(account, true);
        int256 surplusAfter = afterTake.equity - afterTake.maintenance.toInt256();
        if (surplusAfter < terms.surplusBefore) revert AuctionTakeWorsensAccount(account, terms.surplusBefore, surplusAfter);
        int256 lotLeft = terms.lot - taken;
        auction.lot = lotLeft.toInt128();
        emit AuctionTaken(
            auction.id, account, market, msg.sender, taken, terms.auctionPrice, terms.price, terms.penalty, terms.reward, surplusAfter >= 0 ? int256(0) : lotLeft
        );
        if (lotLeft == 0) _closeAuction(account, market, AuctionEnd.Filled);
        else if (surplusAfter >= 0) _closeAuction(account, market, AuctionEnd.Restored);
        _coverBadDebt(account);
    }

    // ---------------------------------------------------------------- backstop unwinding

    /// @notice Closes `size` (same sign as its position) of the backstop's position in `market`
    /// through the market's AMM, at an average price of at least `limitPrice` for a long (at most,
    /// for a short). Within a block a market's unwinds move along one constant-product curve
    /// centred on the oracle, and the pool's price after them may be at most `unwindImpactBps`
    /// from the oracle: beyond that the call is refused. The backstop only (the vault, for its relayer).
    /// @return executionPrice The average price of this unwind.
    function unwindBackstop(bytes32 market, int256 size, uint256 limitPrice) external whenNotPaused returns (uint256 executionPrice) {
        if (msg.sender != backstop) revert NotBackstop(msg.sender);
        MarketConfig storage config = _listedMarket(market);
        uint256 price = _usePrice(market, config);
        Position memory position = _positions[msg.sender][market];
        uint256 amount = _sizeOnPosition(size, position.size);
        (uint256 quote, uint256 poolPrice) = _unwindThroughPool(market, config.ammDepth, size, amount, price);
        executionPrice = quote / amount;
        if (size > 0 ? executionPrice < limitPrice : executionPrice > limitPrice) revert UnwindPriceBeyondLimit(executionPrice, limitPrice);
        (int256 realized, int256 slippage) = _closeAt(size > 0, amount, quote, position.entryPrice, price);
        _reduce(msg.sender, market, size, realized, executionPrice, PositionReason.BackstopUnwind);
        uint256 proceeds = size > 0 ? quote / VALUE_SCALE : Math.ceilDiv(quote, VALUE_SCALE);
        emit BackstopUnwound(market, msg.sender, size, price, executionPrice, poolPrice, proceeds, slippage, realized);
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
        if (paused || position == 0 || account == backstop || health.equity >= health.maintenance.toInt256()) return 0;
        (uint256 price,,) = _readPrice(market, config, false);
        uint256 cap = _liquidationCap(_deficit(health.equity, health.closeLevel), position, price, config);
        return _signedLike(Math.min(cap, _sizeWithinNotional(market, price)), position);
    }

    /// @notice The largest size (signed like the position) `absorb` accepts now: 0 when the
    /// account is at or above initial margin.
    function maxAbsorbSize(address account, bytes32 market) external view returns (int256) {
        MarketConfig storage config = _listedMarket(market);
        Health memory health = _health(account, false);
        int256 position = _positions[account][market].size;
        if (paused || position == 0 || account == backstop || health.equity >= health.initial.toInt256()) return 0;
        (uint256 price,,) = _readPrice(market, config, false);
        uint256 absorbPrice = _absorbPrice(price, config.liquidationPenalty, position > 0);
        uint256 cap = _absorbCap(_deficit(health.equity, health.initial), position, price, absorbPrice, config);
        return _signedLike(Math.min(cap, _sizeWithinNotional(market, price)), position);
    }

    /// @notice A market's auction parameters (zeros: auctions refused there).
    function auctionConfig(bytes32 market) external view returns (AuctionConfig memory) {
        _listedMarket(market);
        return _auctionConfigs[market];
    }

    /// @notice The open auction of `account`'s position in `market` with its price now (zeros: none).
    function auctionOf(address account, bytes32 market) external view returns (AuctionView memory view_) {
        Auction storage auction = _auctions[account][market];
        if (auction.lot == 0) return view_;
        (view_.price, view_.needsReset) = _auctionPrice(auction, _auctionConfigs[market]);
        (view_.id, view_.lot, view_.top, view_.startedAt) = (auction.id, auction.lot, auction.top, auction.tic);
    }

    /// @notice A market's per-block limits and what this block has left of them (a transaction in
    /// a later block gets the whole of each), and whether the engine is paused.
    function blockLimits(bytes32 market) external view returns (LimitsView memory view_) {
        MarketConfig storage config = _listedMarket(market);
        uint256 insuranceCap = _maxInsuranceLossPerBlock;
        view_.maxNotionalPerBlock = _maxNotional(market);
        view_.notionalLeft = _notionalLeft(market);
        view_.maxInsuranceLossPerBlock = insuranceCap == 0 ? type(uint256).max : insuranceCap;
        view_.insuranceLossLeft = _insuranceLossLeft();
        view_.unwindImpactBps = _unwindImpactBps(market);
        (view_.unwindSellLeft, view_.unwindBuyLeft) = _unwindLeft(market, config.ammDepth);
        view_.paused = paused;
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
        _transferPosition(account, market, size, absorbPrice, PositionReason.Absorption, PositionReason.BackstopTakeover);
        uint256 gap = takeover.price > absorbPrice ? takeover.price - absorbPrice : absorbPrice - takeover.price;
        uint256 penalty = Math.mulDiv(SignedMath.abs(size), gap, VALUE_SCALE, Math.Rounding.Ceil);
        emit Absorbed(account, market, msg.sender, size, takeover.price, absorbPrice, penalty);
        _coverBadDebt(account);
    }

    /// @dev `account` closes `size` at `price`, booking it against its entry; the caller opens it at `price`.
    function _transferPosition(address account, bytes32 market, int256 size, uint256 price, PositionReason closed, PositionReason opened) private {
        int256 entry = uint256(_positions[account][market].entryPrice).toInt256();
        _reduce(account, market, size, _floorDiv(size * (price.toInt256() - entry), VALUE_SCALE), price, closed);
        _trade(msg.sender, market, size, price, opened);
    }

    // ---------------------------------------------------------------- internals: auctions

    function _auctionMarket(bytes32 market) private view returns (MarketConfig storage config, AuctionConfig storage auctionConfig) {
        config = _listedMarket(market);
        auctionConfig = _auctionConfigs[market];
        if (auctionConfig.buf == 0) revert AuctionsNotConfigured(market);
    }

    function _openAuction(address account, bytes32 market) private view returns (Auction storage auction) {
        auction = _auctions[account][market];
        if (auction.lot == 0) revert NoAuction(account, market);
    }

    function _closeAuction(address account, bytes32 market, AuctionEnd reason) private {
        Auction storage auction = _auctions[account][market];
        emit AuctionClosed(auction.id, account, market, reason, auction.lot);
        delete _auctions[account][market];
    }

    /// @dev A long lot starts at oracle x buf (rounded down), a short lot at oracle / buf (rounded up):
    /// both start where taking is least attractive and move toward the taker.
    function _auctionTop(uint256 price, uint256 buf, bool long) private pure returns (uint256) {
        return long ? Math.mulDiv(price, buf, WAD) : Math.mulDiv(price, WAD, buf, Math.Rounding.Ceil);
    }

    /// @dev Stairstep: f = cut^floor(elapsed / step); a long lot costs top x f (rounded down), a
    /// short lot top / f (rounded up). A reset is due once elapsed > tail or f < cusp (Maker's `status`).
    function _auctionPrice(Auction storage auction, AuctionConfig storage config) private view returns (uint256 price, bool needsReset) {
        uint256 elapsed = block.timestamp - auction.tic;
        uint256 factor = _rpow(config.cut, elapsed / config.step);
        needsReset = elapsed > config.tail || factor < config.cusp;
        if (auction.lot > 0) price = Math.mulDiv(auction.top, factor, WAD);
        else price = factor == 0 ? type(uint256).max : Math.mulDiv(auction.top, WAD, factor, Math.Rounding.Ceil);
    }

    /// @dev x^n for a WAD fraction x, by squaring, each product rounded down.
    function _rpow(uint256 x, uint256 n) private pure returns (uint256 z) {
        z = WAD;
        while (n != 0) {
            if (n & 1 != 0) z = Math.mulDiv(z, x, WAD);
            n >>= 1;
            if (n != 0) x = Math.mulDiv(x, x, WAD);
        }
    }

    /// @dev The lot, cut to the position when that shrank; refused when nothing is left on its side.
    function _lotOnPosition(int256 lot, int256 position) private pure returns (int256) {
        if (position == 0 || (position > 0) != (lot > 0)) revert SizeNotOnPosition(lot, position);
        return SignedMath.abs(lot) <= SignedMath.abs(position) ? lot : position;
    }

    /// @dev The smallest take at `auctionPrice` that restores the close level: per unit a take
    /// moves equity minus the close level by x - P (1 + penalty - m - buffer) for a long,
    /// P (1 + m + buffer - penalty) - x for a short. No cap when that is not positive: such a take
    /// would gain nothing toward the level (one that worsens the account against maintenance is refused).
    function _takeCap(uint256 deficit, bool long, uint256 auctionPrice, uint256 price, MarketConfig storage config)
        private
        view
        returns (uint256)
    {
        uint256 m = config.maintenanceMarginFraction + config.liquidationBuffer;
        uint256 penalty = config.liquidationPenalty;
        uint256 gain;
        if (long) {
            uint256 neutral = Math.mulDiv(price, WAD + penalty - m, WAD, Math.Rounding.Ceil);
            if (auctionPrice > neutral) gain = auctionPrice - neutral;
        } else {
            uint256 neutral = Math.mulDiv(price, WAD + m - penalty, WAD);
            if (neutral > auctionPrice) gain = neutral - auctionPrice;
        }
        if (gain == 0) return type(uint256).max;
        return Math.ceilDiv((deficit + HEALTH_ROUNDING_MARGIN) * VALUE_SCALE, gain);
    }

    /// @dev What a take gets: the ask cut to the lot, to what restores maintenance at the auction
    /// price and to what the per-block notional cap leaves (counted here; refused when nothing is left).
    function _takeSize(bytes32 market, int256 maxSize, uint256 deficit, TakeTerms memory terms, MarketConfig storage config)
        private
        returns (int256)
    {
        uint256 amount = Math.min(SignedMath.abs(maxSize), SignedMath.abs(terms.lot));
        amount = Math.min(amount, _takeCap(deficit, terms.lot > 0, terms.auctionPrice, terms.price, config));
        uint256 capped = Math.min(amount, _sizeWithinNotional(market, terms.price));
        if (capped == 0) revert LiquidationCapExceeded(market, Math.mulDiv(amount, terms.price, VALUE_SCALE, Math.Rounding.Ceil), 0);
        _useNotional(market, capped, terms.price);
        return _signedLike(capped, terms.lot);
    }

    /// @dev The account closes `size` at the auction price and pays the penalty at the oracle
    /// price; the taker opens it at the auction price, gets the liquidator's share, and must hold margin.
    function _settleTake(address account, bytes32 market, int256 size, TakeTerms memory terms, MarketConfig storage config)
        private
        returns (uint256 penalty, uint256 reward)
    {
        int256 takerBefore = _positions[msg.sender][market].size;
        _transferPosition(account, market, size, terms.auctionPrice, PositionReason.AuctionTake, PositionReason.AuctionTakeover);
        (penalty, reward) = _chargePenalty(account, SignedMath.abs(size), terms.price, config.liquidationPenalty);
        _requireMarginUnlessReducing(msg.sender, takerBefore, size);
    }

    // ---------------------------------------------------------------- internals: limits

    /// @dev What a per-block usage holds for the current block (nothing once its block has passed).
    function _usedThisBlock(BlockUsage storage usage) private view returns (int256) {
        return usage.blockNumber == block.number ? int256(usage.amount) : int256(0);
    }

    /// @dev Makes a usage slot non-zero (an earlier block, nothing used), so that the first
    /// action it counts does not pay for a new slot: a liquidity leg's arrival has a fixed gas budget.
    function _warmUsage(BlockUsage storage usage) private {
        if (usage.blockNumber == 0) usage.blockNumber = 1;
    }

    function _maxNotional(bytes32 market) private view returns (uint256 cap) {
        cap = _limits[market].maxNotionalPerBlock;
        if (cap == 0) cap = type(uint256).max;
    }

    function _notionalLeft(bytes32 market) private view returns (uint256) {
        uint256 cap = _maxNotional(market);
        if (cap == type(uint256).max) return cap;
        uint256 used = uint256(_usedThisBlock(_notionalUsed[market]));
        return cap > used ? cap - used : 0;
    }

    /// @dev The largest size whose notional at `price` fits in what the cap leaves.
    function _sizeWithinNotional(bytes32 market, uint256 price) private view returns (uint256) {
        uint256 left = _notionalLeft(market);
        return left == type(uint256).max ? left : Math.mulDiv(left, VALUE_SCALE, price);
    }

    /// @dev Counts `amount` at `price` against the market's cap; nothing is recorded while it has none.
    function _useNotional(bytes32 market, uint256 amount, uint256 price) private {
        uint256 left = _notionalLeft(market);
        if (left == type(uint256).max) return;
        uint256 notional = Math.mulDiv(amount, price, VALUE_SCALE, Math.Rounding.Ceil);
        if (notional > left) revert LiquidationCapExceeded(market, notional, left);
        int256 used = _usedThisBlock(_notionalUsed[market]) + notional.toInt256();
        _notionalUsed[market] = BlockUsage({blockNumber: uint64(block.number), amount: used.toInt192()});
    }

    function _insuranceLossLeft() private view returns (uint256) {
        uint256 cap = _maxInsuranceLossPerBlock;
        if (cap == 0) return type(uint256).max;
        uint256 used = uint256(_usedThisBlock(_insuranceLoss));
        return cap > used ? cap - used : 0;
    }

    function _unwindImpactBps(bytes32 market) private view returns (uint256 bps) {
        bps = _limits[market].unwindImpactBps;
        if (bps == 0) bps = DEFAULT_UNWIND_IMPACT_BPS;
    }

    /// @dev What this block's unwinds may still sell into (buy from) a pool of depth L. After a net
    /// flow S the pool price is P L^2 / (L + S)^2, within b of P while
    /// L (1 / sqrt(1 + b) - 1) <= S <= L (1 / sqrt(1 - b) - 1); both bounds are rounded inwards.
    function _unwindLeft(bytes32 market, uint256 depth) private view returns (uint256 sellLeft, uint256 buyLeft) {
        uint256 bps = _unwindImpactBps(market);
        uint256 maxSold = Math.mulDiv(depth, Math.sqrt(WAD * WAD * BPS / (BPS - bps)), WAD) - depth;
        uint256 shrink = Math.sqrt(Math.mulDiv(WAD * WAD, BPS, BPS + bps, Math.Rounding.Ceil), Math.Rounding.Ceil);
        uint256 maxBought = depth - Math.mulDiv(depth, shrink, WAD, Math.Rounding.Ceil);
        int256 flow = _usedThisBlock(_unwindFlow[market]);
        int256 sold = maxSold.toInt256() - flow;
        int256 bought = maxBought.toInt256() + flow;
        sellLeft = sold > 0 ? uint256(sold) : 0;
        buyLeft = bought > 0 ? uint256(bought) : 0;
    }

    /// @dev Moves `size` through this block's pool of `market` (base B = L + flow, k = P L^2):
    /// selling s returns k s / (B (B + s)), buying s back costs k s / (B (B - s)). Returns that
    /// quote (size x price units, rounded against the backstop) and the pool price after, k / B'^2.
    function _unwindThroughPool(bytes32 market, uint256 depth, int256 size, uint256 amount, uint256 price)
        private
        returns (uint256 quote, uint256 poolPrice)
    {
        {
            (uint256 sellLeft, uint256 buyLeft) = _unwindLeft(market, depth);
            uint256 left = size > 0 ? sellLeft : buyLeft;
            if (amount > left) revert UnwindImpactExceeded(market, size, left);
        }
        int256 flowAfter = _usedThisBlock(_unwindFlow[market]) + size;
        _unwindFlow[market] = BlockUsage({blockNumber: uint64(block.number), amount: flowAfter.toInt192()});
        uint256 baseAfter = (depth.toInt256() + flowAfter).toUint256();
        Math.Rounding rounding = size > 0 ? Math.Rounding.Floor : Math.Rounding.Ceil;
        uint256 received = Math.mulDiv(amount * price, depth, (baseAfter.toInt256() - size).toUint256(), rounding);
        quote = Math.mulDiv(received, depth, baseAfter, rounding);
        poolPrice = Math.mulDiv(Math.mulDiv(price, depth, baseAfter), depth, baseAfter);
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
        if (config.maintenanceMarginFraction + config.liquidationBuffer > config.initialMarginFraction) {
            revert InvalidLiquidationBuffer(config.liquidationBuffer, config.maintenanceMarginFraction, config.initialMarginFraction);
        }
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
            config.maxPriceAge,
            config.liquidationBuffer
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
    /// fund covers what it can, within this block's loss cap (the rest waits for `coverBadDebt`).
    function _coverBadDebt(address account) private {
        int256 collateral = _collateral[account];
        if (collateral >= 0 || _hasPosition(account)) return;
        uint256 debt = uint256(-collateral);
        uint256 left = _insuranceLossLeft();
        uint256 cover = Math.min(Math.min(debt, insuranceFund), left);
        if (left < debt && left < insuranceFund) emit BadDebtCoverDeferred(account, debt - cover);
        if (cover == 0) return;
        if (left != type(uint256).max) {
            _insuranceLoss = BlockUsage({blockNumber: uint64(block.number), amount: (_usedThisBlock(_insuranceLoss) + cover.toInt256()).toInt192()});
        }
        _changeInsurance(-cover.toInt256());
        _changeCollateral(account, cover.toInt256(), CollateralReason.BadDebtCover);
    }

    /// @dev Charges the penalty on `amount` at the oracle price to `account`: the caller gets the
    /// liquidator's share, the insurance fund the rest.
    function _chargePenalty(address account, uint256 amount, uint256 price, uint256 penaltyFraction) private returns (uint256 penalty, uint256 reward) {
        penalty = Math.mulDiv(amount * price, penaltyFraction, VALUE_SCALE * WAD, Math.Rounding.Ceil);
        reward = Math.mulDiv(penalty, liquidatorShare, WAD);
        _changeCollateral(account, -penalty.toInt256(), CollateralReason.LiquidationPenalty);
        if (reward > 0) _changeCollateral(msg.sender, reward.toInt256(), CollateralReason.LiquidatorReward);
        _changeInsurance((penalty - reward).toInt256());
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
        uint256 closeLevel;
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
            closeLevel += notional * (config.maintenanceMarginFraction + config.liquidationBuffer);
        }
        health.equity = _collateral[account] + _floorDiv(pnl, VALUE_SCALE);
        health.maintenance = Math.ceilDiv(maintenance, VALUE_SCALE * WAD);
        health.initial = Math.ceilDiv(initial, VALUE_SCALE * WAD);
        health.closeLevel = Math.ceilDiv(closeLevel, VALUE_SCALE * WAD);
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

    function _requireLiquidatable(address account) private view returns (Health memory health) {
        health = _health(account, true);
        if (health.equity >= health.maintenance.toInt256()) revert NotLiquidatable(account, health.equity, health.maintenance);
    }

    /// @dev Any change that does not only reduce a position must leave the account at or above initial margin.
    function _requireMarginUnlessReducing(address account, int256 before, int256 delta) private view {
        bool reducesOnly = before != 0 && (before > 0) != (delta > 0) && SignedMath.abs(delta) <= SignedMath.abs(before);
        if (reducesOnly) return;
        Health memory health = _health(account, true);
        if (health.equity < health.initial.toInt256()) revert InsufficientMargin(account, health.equity, health.initial);
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
        bool long = position.size > 0;
        uint256 quote = long ? Math.mulDiv(amount * price, depth, depth + amount) : Math.mulDiv(amount * price, depth, depth - amount, Math.Rounding.Ceil);
        int256 cost;
        (realized, cost) = _closeAt(long, amount, quote, position.entryPrice, price);
        executionPrice = quote / amount;
        slippage = cost.toUint256();
    }

    /// @dev Closing `amount` of a long (short) for `quote` received (paid), in size x price units:
    /// the PnL against the entry (rounded down) and the cost against the oracle (rounded up).
    function _closeAt(bool long, uint256 amount, uint256 quote, uint256 entryPrice, uint256 price) private pure returns (int256 realized, int256 cost) {
        int256 sign = long ? int256(1) : -1;
        int256 received = sign * quote.toInt256();
        realized = _floorDiv(received - sign * (amount * entryPrice).toInt256(), VALUE_SCALE);
        cost = -_floorDiv(received - sign * (amount * price).toInt256(), VALUE_SCALE);
    }

    /// @dev The smallest close that restores the close level (maintenance plus the market's
    /// buffer), from the closed form: with a = m + buffer - penalty,
    /// h = deficit / P (base units) and depth L, a long needs the smaller root of
    /// (1 - a) s^2 - (a L - h) s + h L = 0, a short of (1 + a) s^2 - (a L + h) s + h L = 0, taken
    /// as 2 h L / (B + sqrt(B^2 - 4 A h L)). Every rounding makes s larger. When no close restores
    /// the close level, the whole position (for a short, what the AMM can supply).
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
        uint256 a = config.maintenanceMarginFraction + config.liquidationBuffer - config.liquidationPenalty;
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

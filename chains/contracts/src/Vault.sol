// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {OApp, Origin, MessagingFee, MessagingReceipt} from "@layerzerolabs/oapp-evm/contracts/oapp/OApp.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {CollateralToken} from "./CollateralToken.sol";
import {IMarginEngine} from "./interfaces/IMarginEngine.sol";
import {IWormholeCore} from "./interfaces/IWormholeCore.sol";

/// @notice The protocol's vault on one chain: it holds protocol-owned liquidity (its balance of
/// the collateral token, the reserve), mints and burns that token, and moves value between
/// chains over LayerZero V2 (as an OApp) or Wormhole (as emitter and receiver).
///
/// A leg is started by a relayer only, with an id chosen by the relayer and a deadline:
/// - collateral: release an account's surplus from the margin engine here, burn it, and on the
///   destination mint it and credit the same account;
/// - liquidity: burn from the reserve here, and on the destination mint it into the backstop's
///   margin (this vault's own account in the engine) and absorb up to `size` of the account's
///   position, as much as the engine allows at that moment;
/// - refund: sent back by the destination when a relayer cancels a leg there that was never
///   executed; the source mints the amount back (to the account, or to the reserve).
///
/// The message is DESIGN.md's versioned tuple (version, kind, legId, account, amount, market,
/// size, deadline), ABI-encoded. A receiver checks the sender (LayerZero peer; Wormhole emitter
/// chain and address, and the destination bound in the VAA's nonce, since a VAA is valid on
/// every chain), the version, the kind, the leg id against replay and the deadline, and reverts
/// on any failure without changing anything. A leg id executes at most once per chain.
///
/// While the engine is paused (its guardian's breaker) the vault neither starts, cancels nor
/// executes a leg: a delivery reverts as a whole and stays deliverable (a LayerZero message stays
/// verified and retryable, a VAA unconsumed) until the engine resumes.
///
/// The relayer also unwinds the backstop's absorbed positions through the engine's AMM
/// (`unwindBackstop`), within the engine's per-block impact budget.
///
/// Remote chains are addressed by their EVM chain id; `setRemote` maps it to the chain's
/// LayerZero eid, Wormhole chain id and vault, and keeps the OApp's peers in step.
contract Vault is OApp {
    using SafeCast for uint256;

    /// @notice The payload version this vault sends and accepts.
    uint8 public constant PAYLOAD_VERSION = 1;
    uint8 public constant KIND_COLLATERAL = 1;
    uint8 public constant KIND_LIQUIDITY = 2;
    uint8 public constant KIND_REFUND = 3;
    uint8 public constant TRANSPORT_LAYERZERO = 1;
    uint8 public constant TRANSPORT_WORMHOLE = 2;
    /// @dev Eight static ABI words.
    uint256 private constant PAYLOAD_LENGTH = 8 * 32;
    /// @dev Wormhole's "finalized" consistency level.
    uint8 private constant WORMHOLE_CONSISTENCY = 1;
    /// @dev A refund must always be executable: it carries no deadline.
    uint64 private constant NO_DEADLINE = type(uint64).max;
    /// @dev Gas a leg's arrival may need (a liquidity arrival measured ~241k with 3 open markets,
    /// the per-block notional cap counted, the first on its LayerZero path):
    /// with less, `_lzReceive` cannot tell a refusal from running out, so it waits for more gas.
    uint256 private constant MIN_RECEIVE_GAS = 250_000;

    enum LegStatus {
        None,
        /// Outbound: burned here and sent.
        Sent,
        /// Outbound: canceled at the destination and minted back here.
        Refunded,
        /// Inbound: minted and credited here.
        Executed,
        /// Inbound: canceled here by a relayer before it was executed; it never will be.
        Canceled
    }

    struct Remote {
        uint32 lzEid;
        uint16 wormholeChainId;
        /// The remote vault, left-padded to 32 bytes (LayerZero peer and Wormhole emitter).
        bytes32 peer;
    }

    struct OutboundLeg {
        uint64 dstChainId;
        uint64 deadline;
        uint8 kind;
        uint8 transport;
        LegStatus status;
        address account;
        uint96 amount;
    }

    struct InboundLeg {
        LegStatus status;
        uint64 srcChainId;
        uint8 transport;
    }

    /// @dev The message payload, decoded.
    struct Leg {
        uint8 kind;
        bytes32 legId;
        address account;
        uint256 amount;
        bytes32 market;
        int256 size;
        uint64 deadline;
    }

    /// @notice The collateral token this vault mints and burns.
    CollateralToken public immutable token;
    /// @notice The margin engine whose accounts legs debit and credit.
    IMarginEngine public immutable engine;
    /// @notice Wormhole's core bridge on this chain.
    IWormholeCore public immutable wormhole;
    /// @notice This chain's Wormhole chain id (the destination a VAA must name).
    uint16 public immutable wormholeChainId;

    /// @notice Who may start and cancel legs.
    mapping(address relayer => bool) public isRelayer;
    /// @notice The remote chain an eid or Wormhole chain id belongs to (0: none).
    mapping(uint32 lzEid => uint64 chainId) public chainIdByLzEid;
    mapping(uint16 wormholeChainId => uint64 chainId) public chainIdByWormholeChainId;
    /// @notice VAA hashes (the core bridge's `vm.hash`) already delivered here.
    mapping(bytes32 vaaHash => bool) public wormholeVaaConsumed;

    mapping(uint64 chainId => Remote) private _remotes;
    mapping(bytes32 legId => OutboundLeg) private _outbound;
    mapping(bytes32 legId => InboundLeg) private _inbound;

    event RelayerSet(address indexed relayer, bool allowed);
    event RemoteSet(uint64 indexed chainId, uint32 lzEid, uint16 wormholeChainId, bytes32 peer);
    event RemoteRemoved(uint64 indexed chainId);
    /// @notice New supply: the only mint that is not the arrival of a leg.
    event Issued(address indexed to, uint256 amount);
    event BackstopMarginWithdrawn(uint256 amount);
    /// @notice A leg left this chain: `amount` was burned. `messageRef` is the LayerZero GUID or
    /// the Wormhole sequence; `fee` the native fee paid.
    event LegSent(
        bytes32 indexed legId,
        uint8 indexed kind,
        uint64 indexed dstChainId,
        uint8 transport,
        address account,
        uint256 amount,
        bytes32 market,
        int256 size,
        uint64 deadline,
        bytes32 messageRef,
        uint256 fee
    );
    /// @notice A leg arrived and was executed: `amount` was minted. `messageRef` is the LayerZero
    /// GUID or the VAA hash; `absorbedSize` the size the backstop took over (liquidity legs).
    event LegReceived(
        bytes32 indexed legId,
        uint8 indexed kind,
        uint64 indexed srcChainId,
        uint8 transport,
        address account,
        uint256 amount,
        bytes32 market,
        int256 size,
        int256 absorbedSize,
        bytes32 messageRef
    );
    /// @notice A leg from `srcChainId` was canceled here before execution; a refund went back.
    /// @notice A LayerZero message refused for good was consumed without effect (see `_lzReceive`).
    event LegRejected(uint64 indexed srcChainId, uint8 transport, bytes32 messageRef, bytes reason);
    event LegCanceled(bytes32 indexed legId, uint64 indexed srcChainId, uint8 transport, bytes32 messageRef, uint256 fee);
    /// @notice A leg sent from here was canceled at its destination and minted back here.
    event LegRefunded(
        bytes32 indexed legId, uint8 indexed kind, uint64 indexed dstChainId, uint8 transport, address account, uint256 amount, bytes32 messageRef
    );

    error NotRelayer(address caller);
    error OnlySelf(address caller);
    error InsufficientReceiveGas(uint256 available, uint256 required);
    error PeersFollowRemotes();
    error InvalidRemote(uint64 chainId);
    error RemoteIdTaken(uint64 chainId, uint64 holder);
    error UnknownRemote(uint64 chainId);
    error UnsupportedTransport(uint8 transport);
    error WrongWormholeFee(uint256 expected, uint256 paid);
    error InvalidLegId();
    error ZeroAddress();
    error ZeroAmount();
    error ZeroSize();
    error InvalidMarket();
    error DeadlineNotInFuture(uint64 deadline, uint256 now_);
    error LegAlreadySent(bytes32 legId);
    error InsufficientReserve(uint256 requested, uint256 available);
    error InvalidVaa(string reason);
    error UnknownEmitter(uint16 wormholeChainId, bytes32 emitter);
    error WrongDestination(uint32 wormholeChainId, uint16 expected);
    error VaaAlreadyConsumed(bytes32 vaaHash);
    error MalformedPayload(uint256 length);
    error UnsupportedPayloadVersion(uint256 version);
    error UnsupportedLegKind(uint8 kind);
    error LegAlreadyProcessed(bytes32 legId, LegStatus status);
    error LegExpired(bytes32 legId, uint64 deadline, uint256 now_);
    error RefundNotExpected(bytes32 legId, uint64 fromChainId);
    error EnginePaused();

    modifier onlyRelayer() {
        if (!isRelayer[msg.sender]) revert NotRelayer(msg.sender);
        _;
    }

    modifier whenEngineLive() {
        if (engine.paused()) revert EnginePaused();
        _;
    }

    /// @param endpoint LayerZero's EndpointV2 on this chain.
    /// @param wormhole_ Wormhole's core bridge on this chain.
    /// @param token_ The collateral token (its vault is set to this contract afterwards).
    /// @param engine_ The margin engine (its vault and backstop are set to this contract afterwards).
    /// @param owner_ Who configures remotes and relayers and issues supply.
    constructor(address endpoint, IWormholeCore wormhole_, CollateralToken token_, IMarginEngine engine_, address owner_)
        OApp(endpoint, owner_)
        Ownable(owner_)
    {
        token = token_;
        engine = engine_;
        wormhole = wormhole_;
        wormholeChainId = wormhole_.chainId();
        // The engine pulls what the vault credits to accounts.
        token_.approve(address(engine_), type(uint256).max);
    }

    // ---------------------------------------------------------------- configuration (owner)

    /// @notice Lets `relayer` start and cancel legs, or stops it.
    function setRelayer(address relayer, bool allowed) external onlyOwner {
        if (relayer == address(0)) revert ZeroAddress();
        isRelayer[relayer] = allowed;
        emit RelayerSet(relayer, allowed);
    }

    /// @notice Registers (or re-registers) the vault on EVM chain `chainId`, with that chain's
    /// LayerZero eid and Wormhole chain id; it becomes the LayerZero peer and the trusted emitter.
    function setRemote(uint64 chainId, uint32 lzEid, uint16 remoteWormholeChainId, address remoteVault) external onlyOwner {
        if (
            chainId == 0 || chainId == block.chainid || lzEid == 0 || lzEid == endpoint.eid() || remoteWormholeChainId == 0
                || remoteWormholeChainId == wormholeChainId || remoteVault == address(0)
        ) revert InvalidRemote(chainId);
        uint64 holder = chainIdByLzEid[lzEid];
        if (holder != 0 && holder != chainId) revert RemoteIdTaken(chainId, holder);
        holder = chainIdByWormholeChainId[remoteWormholeChainId];
        if (holder != 0 && holder != chainId) revert RemoteIdTaken(chainId, holder);
        _clearRemote(chainId);
        bytes32 peer = bytes32(uint256(uint160(remoteVault)));
        _remotes[chainId] = Remote({lzEid: lzEid, wormholeChainId: remoteWormholeChainId, peer: peer});
        chainIdByLzEid[lzEid] = chainId;
        chainIdByWormholeChainId[remoteWormholeChainId] = chainId;
        _setPeer(lzEid, peer);
        emit RemoteSet(chainId, lzEid, remoteWormholeChainId, peer);
    }

    /// @notice Forgets the remote vault on `chainId`: nothing more is sent to or accepted from it.
    function removeRemote(uint64 chainId) external onlyOwner {
        _requireRemote(chainId);
        _clearRemote(chainId);
        emit RemoteRemoved(chainId);
    }

    /// @notice Peers are set through `setRemote` only, so both transports trust the same vaults.
    function setPeer(uint32, bytes32) public pure override {
        revert PeersFollowRemotes();
    }

    /// @notice Mints new supply to `to` (e.g. the reserve, or a devnet trader).
    function issue(address to, uint256 amount) external onlyOwner {
        if (to == address(0)) revert ZeroAddress();
        if (amount == 0) revert ZeroAmount();
        token.mint(to, amount);
        emit Issued(to, amount);
    }

    /// @notice Moves free collateral of the backstop's margin account back into the reserve.
    function withdrawBackstopMargin(uint256 amount) external onlyOwner {
        engine.withdraw(amount);
        emit BackstopMarginWithdrawn(amount);
    }

    // ---------------------------------------------------------------- backstop (relayer)

    /// @notice Sells (buys back) `size` of the backstop's position in `market` through the engine's
    /// AMM at an average price of at least (at most) `limitPrice`, within the engine's per-block
    /// impact budget; the PnL stays in the backstop's margin. The relayer only.
    function unwindBackstop(bytes32 market, int256 size, uint256 limitPrice) external onlyRelayer returns (uint256 executionPrice) {
        return engine.unwindBackstop(market, size, limitPrice);
    }

    // ---------------------------------------------------------------- legs (relayer)

    /// @notice Starts a collateral leg: releases `amount` of `account`'s free collateral here
    /// (the account must have consented and stays at or above initial margin), burns it, and
    /// sends it to `dstChainId` over `transport` to be credited to the same account there.
    /// Attach the transport's fee (see `quoteSendCollateral`).
    /// @return messageRef The LayerZero GUID, or the Wormhole sequence.
    function sendCollateral(
        uint64 dstChainId,
        address account,
        uint256 amount,
        bytes32 legId,
        uint64 deadline,
        uint8 transport,
        bytes calldata options
    ) external payable onlyRelayer whenEngineLive returns (bytes32 messageRef) {
        Leg memory leg = Leg(KIND_COLLATERAL, legId, account, amount, bytes32(0), 0, deadline);
        _recordOutbound(dstChainId, transport, leg);
        engine.releaseMargin(account, amount);
        token.burn(amount);
        messageRef = _dispatch(dstChainId, transport, leg, options);
    }

    /// @notice Starts a liquidity leg: burns `amount` from the reserve here and sends it to
    /// `dstChainId`, where it funds the backstop, which absorbs up to `size` (signed like the
    /// position) of `account`'s position in `market`. Attach the fee (see `quoteSendLiquidity`).
    /// @return messageRef The LayerZero GUID, or the Wormhole sequence.
    function sendLiquidity(
        uint64 dstChainId,
        address account,
        uint256 amount,
        bytes32 market,
        int256 size,
        bytes32 legId,
        uint64 deadline,
        uint8 transport,
        bytes calldata options
    ) external payable onlyRelayer whenEngineLive returns (bytes32 messageRef) {
        if (market == bytes32(0)) revert InvalidMarket();
        if (size == 0) revert ZeroSize();
        Leg memory leg = Leg(KIND_LIQUIDITY, legId, account, amount, market, size, deadline);
        _recordOutbound(dstChainId, transport, leg);
        uint256 available = token.balanceOf(address(this));
        if (amount > available) revert InsufficientReserve(amount, available);
        token.burn(amount);
        messageRef = _dispatch(dstChainId, transport, leg, options);
    }

    /// @notice Cancels leg `legId` from `srcChainId` that was never executed here (for example
    /// past its deadline): it can never execute afterwards, and a refund goes back to the source
    /// over `transport`. Attach the fee (see `quoteCancelLeg`). A canceled leg may be canceled
    /// again, to resend a refund that was lost or sent to the wrong chain: only the chain that
    /// sent the leg here accepts a refund, and only once.
    /// @return messageRef The refund's LayerZero GUID, or Wormhole sequence.
    function cancelLeg(uint64 srcChainId, bytes32 legId, uint8 transport, bytes calldata options)
        external
        payable
        onlyRelayer
        whenEngineLive
        returns (bytes32 messageRef)
    {
        if (legId == bytes32(0)) revert InvalidLegId();
        _requireRemote(srcChainId);
        LegStatus status = _inbound[legId].status;
        if (status == LegStatus.Executed) revert LegAlreadyProcessed(legId, status);
        _inbound[legId] = InboundLeg({status: LegStatus.Canceled, srcChainId: srcChainId, transport: transport});
        uint256 fee;
        (messageRef, fee) = _publish(srcChainId, transport, _encode(_refundOf(legId)), options);
        emit LegCanceled(legId, srcChainId, transport, messageRef, fee);
    }

    // ---------------------------------------------------------------- receiving

    /// @notice Delivers a Wormhole VAA carrying a leg. Anyone may deliver: the guardian
    /// signatures, the emitter and the destination named in the VAA are the authority.
    function receiveWormholeMessage(bytes calldata encodedVaa) external whenEngineLive {
        (IWormholeCore.VM memory vm, bool valid, string memory reason) = wormhole.parseAndVerifyVM(encodedVaa);
        if (!valid) revert InvalidVaa(reason);
        uint64 srcChainId = chainIdByWormholeChainId[vm.emitterChainId];
        if (srcChainId == 0 || _remotes[srcChainId].peer != vm.emitterAddress) revert UnknownEmitter(vm.emitterChainId, vm.emitterAddress);
        if (vm.nonce != wormholeChainId) revert WrongDestination(vm.nonce, wormholeChainId);
        if (wormholeVaaConsumed[vm.hash]) revert VaaAlreadyConsumed(vm.hash);
        wormholeVaaConsumed[vm.hash] = true;
        _receive(srcChainId, TRANSPORT_WORMHOLE, vm.hash, vm.payload);
    }

    /// @dev OAppReceiver has checked that the endpoint calls and that the sender is our peer.
    /// LayerZero delivers a path in nonce order: a message this vault refuses for good (a replayed,
    /// canceled or expired leg, a malformed payload) would block every later leg on the path if it
    /// reverted here. So it is consumed and logged instead (`LegRejected`); it changed nothing, and
    /// an expired leg is refunded through `cancelLeg` as if it had never arrived. With too little
    /// gas to judge it, or while the engine is paused, the message reverts and stays retryable.
    function _lzReceive(Origin calldata origin, bytes32 guid, bytes calldata message, address, bytes calldata) internal override {
        if (gasleft() < MIN_RECEIVE_GAS) revert InsufficientReceiveGas(gasleft(), MIN_RECEIVE_GAS);
        if (engine.paused()) revert EnginePaused();
        uint64 srcChainId = chainIdByLzEid[origin.srcEid];
        try this.receiveFromEndpoint(srcChainId, guid, message) {}
        catch (bytes memory reason) {
            emit LegRejected(srcChainId, TRANSPORT_LAYERZERO, guid, reason);
        }
    }

    /// @notice Runs a LayerZero payload; callable only by this vault (from `_lzReceive`), so that
    /// a refusal can be caught there.
    function receiveFromEndpoint(uint64 srcChainId, bytes32 guid, bytes calldata message) external {
        if (msg.sender != address(this)) revert OnlySelf(msg.sender);
        _receive(srcChainId, TRANSPORT_LAYERZERO, guid, message);
    }

    // ---------------------------------------------------------------- views

    /// @notice The remote vault registered for EVM chain `chainId` (zeros when none).
    function remote(uint64 chainId) external view returns (Remote memory) {
        return _remotes[chainId];
    }

    /// @notice A leg sent from here, by id (status None when no such leg was sent).
    function outboundLeg(bytes32 legId) external view returns (OutboundLeg memory) {
        return _outbound[legId];
    }

    /// @notice A leg received or canceled here, by id (status None when neither).
    function inboundLeg(bytes32 legId) external view returns (InboundLeg memory) {
        return _inbound[legId];
    }

    /// @notice Protocol-owned liquidity held here, in token base units.
    function reserve() external view returns (uint256) {
        return token.balanceOf(address(this));
    }

    /// @notice The native fee `sendCollateral` needs with these arguments.
    function quoteSendCollateral(
        uint64 dstChainId,
        address account,
        uint256 amount,
        bytes32 legId,
        uint64 deadline,
        uint8 transport,
        bytes calldata options
    ) external view returns (uint256 nativeFee) {
        return _quoteFee(dstChainId, transport, _encode(Leg(KIND_COLLATERAL, legId, account, amount, bytes32(0), 0, deadline)), options);
    }

    /// @notice The native fee `sendLiquidity` needs with these arguments.
    function quoteSendLiquidity(
        uint64 dstChainId,
        address account,
        uint256 amount,
        bytes32 market,
        int256 size,
        bytes32 legId,
        uint64 deadline,
        uint8 transport,
        bytes calldata options
    ) external view returns (uint256 nativeFee) {
        return _quoteFee(dstChainId, transport, _encode(Leg(KIND_LIQUIDITY, legId, account, amount, market, size, deadline)), options);
    }

    /// @notice The native fee `cancelLeg` needs with these arguments.
    function quoteCancelLeg(uint64 srcChainId, bytes32 legId, uint8 transport, bytes calldata options)
        external
        view
        returns (uint256 nativeFee)
    {
        return _quoteFee(srcChainId, transport, _encode(_refundOf(legId)), options);
    }

    // ---------------------------------------------------------------- internals

    function _recordOutbound(uint64 dstChainId, uint8 transport, Leg memory leg) private {
        if (leg.legId == bytes32(0)) revert InvalidLegId();
        if (leg.account == address(0)) revert ZeroAddress();
        if (leg.amount == 0) revert ZeroAmount();
        if (leg.deadline <= block.timestamp) revert DeadlineNotInFuture(leg.deadline, block.timestamp);
        if (_outbound[leg.legId].status != LegStatus.None) revert LegAlreadySent(leg.legId);
        _requireRemote(dstChainId);
        _requireTransport(transport);
        _outbound[leg.legId] = OutboundLeg({
            dstChainId: dstChainId,
            deadline: leg.deadline,
            kind: leg.kind,
            transport: transport,
            status: LegStatus.Sent,
            account: leg.account,
            amount: leg.amount.toUint96()
        });
    }

    function _dispatch(uint64 dstChainId, uint8 transport, Leg memory leg, bytes calldata options) private returns (bytes32 messageRef) {
        uint256 fee;
        (messageRef, fee) = _publish(dstChainId, transport, _encode(leg), options);
        emit LegSent(leg.legId, leg.kind, dstChainId, transport, leg.account, leg.amount, leg.market, leg.size, leg.deadline, messageRef, fee);
    }

    /// @dev Sends `payload` to the vault on `chainId`; the caller's `msg.value` pays the fee.
    function _publish(uint64 chainId, uint8 transport, bytes memory payload, bytes calldata options)
        private
        returns (bytes32 messageRef, uint256 fee)
    {
        Remote memory target = _requireRemote(chainId);
        if (transport == TRANSPORT_LAYERZERO) {
            MessagingReceipt memory receipt = _lzSend(target.lzEid, payload, options, MessagingFee(msg.value, 0), payable(msg.sender));
            return (receipt.guid, receipt.fee.nativeFee);
        }
        if (transport == TRANSPORT_WORMHOLE) {
            fee = wormhole.messageFee();
            if (msg.value != fee) revert WrongWormholeFee(fee, msg.value);
            // A VAA is valid on every chain: the nonce names the one chain that may execute it.
            uint64 sequence = wormhole.publishMessage{value: fee}(target.wormholeChainId, payload, WORMHOLE_CONSISTENCY);
            return (bytes32(uint256(sequence)), fee);
        }
        revert UnsupportedTransport(transport);
    }

    function _quoteFee(uint64 chainId, uint8 transport, bytes memory payload, bytes calldata options) private view returns (uint256) {
        Remote memory target = _requireRemote(chainId);
        if (transport == TRANSPORT_LAYERZERO) return _quote(target.lzEid, payload, options, false).nativeFee;
        if (transport == TRANSPORT_WORMHOLE) return wormhole.messageFee();
        revert UnsupportedTransport(transport);
    }

    /// @dev Runs a delivered payload from the vault on `srcChainId`. Every check comes before any
    /// change, so a refused message changes nothing and can be looked at again later.
    function _receive(uint64 srcChainId, uint8 transport, bytes32 messageRef, bytes memory payload) private {
        Leg memory leg = _decode(payload);
        if (leg.kind == KIND_REFUND) {
            _receiveRefund(srcChainId, transport, messageRef, leg);
            return;
        }
        if (leg.kind != KIND_COLLATERAL && leg.kind != KIND_LIQUIDITY) revert UnsupportedLegKind(leg.kind);
        LegStatus status = _inbound[leg.legId].status;
        if (status != LegStatus.None) revert LegAlreadyProcessed(leg.legId, status);
        if (block.timestamp > leg.deadline) revert LegExpired(leg.legId, leg.deadline, block.timestamp);

        _inbound[leg.legId] = InboundLeg({status: LegStatus.Executed, srcChainId: srcChainId, transport: transport});
        token.mint(address(this), leg.amount);
        int256 absorbed;
        if (leg.kind == KIND_COLLATERAL) {
            engine.creditMargin(leg.account, leg.amount);
        } else {
            engine.creditMargin(address(this), leg.amount);
            // As much as the engine allows now: less than planned, or nothing, if the account recovered.
            absorbed = engine.absorbUpTo(leg.account, leg.market, leg.size);
        }
        emit LegReceived(leg.legId, leg.kind, srcChainId, transport, leg.account, leg.amount, leg.market, leg.size, absorbed, messageRef);
    }

    function _receiveRefund(uint64 srcChainId, uint8 transport, bytes32 messageRef, Leg memory refund) private {
        OutboundLeg storage leg = _outbound[refund.legId];
        if (leg.status != LegStatus.Sent || leg.dstChainId != srcChainId) revert RefundNotExpected(refund.legId, srcChainId);
        leg.status = LegStatus.Refunded;
        (uint8 kind, address account, uint256 amount) = (leg.kind, leg.account, leg.amount);
        token.mint(address(this), amount);
        if (kind == KIND_COLLATERAL) engine.creditMargin(account, amount);
        emit LegRefunded(refund.legId, kind, srcChainId, transport, account, amount, messageRef);
    }

    function _requireRemote(uint64 chainId) private view returns (Remote memory target) {
        target = _remotes[chainId];
        if (target.peer == bytes32(0)) revert UnknownRemote(chainId);
    }

    function _requireTransport(uint8 transport) private pure {
        if (transport != TRANSPORT_LAYERZERO && transport != TRANSPORT_WORMHOLE) revert UnsupportedTransport(transport);
    }

    function _clearRemote(uint64 chainId) private {
        Remote memory old = _remotes[chainId];
        if (old.peer == bytes32(0)) return;
        delete chainIdByLzEid[old.lzEid];
        delete chainIdByWormholeChainId[old.wormholeChainId];
        delete _remotes[chainId];
        _setPeer(old.lzEid, bytes32(0));
    }

    function _refundOf(bytes32 legId) private pure returns (Leg memory) {
        return Leg(KIND_REFUND, legId, address(0), 0, bytes32(0), 0, NO_DEADLINE);
    }

    function _encode(Leg memory leg) private pure returns (bytes memory) {
        return abi.encode(PAYLOAD_VERSION, leg.kind, leg.legId, leg.account, leg.amount, leg.market, leg.size, leg.deadline);
    }

    /// @dev The version is read first, so a future layout is refused as a version, not as garbage.
    function _decode(bytes memory payload) private pure returns (Leg memory leg) {
        if (payload.length < 32) revert MalformedPayload(payload.length);
        uint256 version = abi.decode(payload, (uint256));
        if (version != PAYLOAD_VERSION) revert UnsupportedPayloadVersion(version);
        if (payload.length != PAYLOAD_LENGTH) revert MalformedPayload(payload.length);
        (, leg.kind, leg.legId, leg.account, leg.amount, leg.market, leg.size, leg.deadline) =
            abi.decode(payload, (uint8, uint8, bytes32, address, uint256, bytes32, int256, uint64));
    }
}

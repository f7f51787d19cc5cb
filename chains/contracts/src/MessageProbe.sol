// SPDX-License-Identifier: MIT
pragma solidity ^0.8.22;

import {OApp, Origin, MessagingFee, MessagingReceipt} from "@layerzerolabs/oapp-evm/contracts/oapp/OApp.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IWormholeCore} from "./interfaces/IWormholeCore.sol";

/// @notice The devnet's proof that both transports work end to end: it sends an opaque payload
/// over LayerZero V2 (as an OApp) or Wormhole (as an emitter), and on receipt checks the sender
/// exactly as the protocol's vault will (LayerZero peer; Wormhole emitter chain and address,
/// replay by VAA hash) and counts each delivery by message id.
contract MessageProbe is OApp {
    uint8 public constant TRANSPORT_LAYERZERO = 1;
    uint8 public constant TRANSPORT_WORMHOLE = 2;
    /// @dev Wormhole's "finalized" level; the devnet guardian signs whatever is asked.
    uint8 private constant WORMHOLE_CONSISTENCY = 1;

    IWormholeCore public immutable wormhole;
    /// @notice The trusted emitter of each Wormhole chain (the probe deployed there).
    mapping(uint16 wormholeChainId => bytes32 emitter) public wormholeEmitters;
    /// @notice Deliveries per message id (LayerZero GUID, or the VAA hash that Wormhole verifies).
    mapping(bytes32 messageId => uint256 count) public deliveries;

    event ProbeReceived(uint8 indexed transport, bytes32 indexed messageId, uint32 sourceChain, bytes32 sender, bytes payload);
    event WormholeEmitterSet(uint16 wormholeChainId, bytes32 emitter);

    error InvalidVaa(string reason);
    error UnknownEmitter(uint16 wormholeChainId, bytes32 emitter);
    error VaaAlreadyConsumed(bytes32 vaaHash);
    error WrongWormholeFee(uint256 expected, uint256 paid);

    constructor(address endpoint, address wormholeCore, address owner) OApp(endpoint, owner) Ownable(owner) {
        wormhole = IWormholeCore(wormholeCore);
    }

    function setWormholeEmitter(uint16 wormholeChainId, bytes32 emitter) external onlyOwner {
        wormholeEmitters[wormholeChainId] = emitter;
        emit WormholeEmitterSet(wormholeChainId, emitter);
    }

    function quoteLayerZero(uint32 dstEid, bytes calldata payload, bytes calldata options) external view returns (uint256) {
        return _quote(dstEid, payload, options, false).nativeFee;
    }

    function sendLayerZero(uint32 dstEid, bytes calldata payload, bytes calldata options)
        external
        payable
        onlyOwner
        returns (bytes32 guid)
    {
        MessagingReceipt memory receipt = _lzSend(dstEid, payload, options, MessagingFee(msg.value, 0), payable(msg.sender));
        return receipt.guid;
    }

    function sendWormhole(bytes calldata payload) external payable onlyOwner returns (uint64 sequence) {
        uint256 fee = wormhole.messageFee();
        if (msg.value != fee) revert WrongWormholeFee(fee, msg.value);
        return wormhole.publishMessage{value: msg.value}(0, payload, WORMHOLE_CONSISTENCY);
    }

    /// @notice Anyone may deliver a VAA: the core bridge's guardian signatures are the authority.
    function receiveWormholeMessage(bytes calldata encodedVaa) external {
        (IWormholeCore.VM memory vm, bool valid, string memory reason) = wormhole.parseAndVerifyVM(encodedVaa);
        if (!valid) revert InvalidVaa(reason);
        bytes32 trusted = wormholeEmitters[vm.emitterChainId];
        if (trusted == bytes32(0) || trusted != vm.emitterAddress) revert UnknownEmitter(vm.emitterChainId, vm.emitterAddress);
        if (deliveries[vm.hash] != 0) revert VaaAlreadyConsumed(vm.hash);
        deliveries[vm.hash] += 1;
        emit ProbeReceived(TRANSPORT_WORMHOLE, vm.hash, vm.emitterChainId, vm.emitterAddress, vm.payload);
    }

    function wormholeVaaConsumed(bytes32 vaaHash) external view returns (bool) {
        return deliveries[vaaHash] != 0;
    }

    /// @dev OAppReceiver has already checked that the endpoint calls and the sender is our peer;
    /// the endpoint refuses a second delivery of a GUID, so the count stays at one.
    function _lzReceive(Origin calldata origin, bytes32 guid, bytes calldata message, address, bytes calldata) internal override {
        deliveries[guid] += 1;
        emit ProbeReceived(TRANSPORT_LAYERZERO, guid, origin.srcEid, origin.sender, message);
    }
}

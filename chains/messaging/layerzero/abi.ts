import { parseAbi } from 'viem';

/**
 * The parts of the LayerZero V2 contracts the node calls or decodes, as typed fragments.
 * The full ABIs and bytecode come from the npm artifacts (see artifacts.ts); these fragments
 * are what viem infers argument and result types from.
 */

const structs = [
  'struct Origin { uint32 srcEid; bytes32 sender; uint64 nonce; }',
  'struct MessagingParams { uint32 dstEid; bytes32 receiver; bytes message; bytes options; bool payInLzToken; }',
  'struct MessagingFee { uint256 nativeFee; uint256 lzTokenFee; }',
  'struct UlnConfig { uint64 confirmations; uint8 requiredDVNCount; uint8 optionalDVNCount; uint8 optionalDVNThreshold; address[] requiredDVNs; address[] optionalDVNs; }',
  'struct SetDefaultUlnConfigParam { uint32 eid; UlnConfig config; }',
  'struct ExecutorConfig { uint32 maxMessageSize; address executor; }',
  'struct SetDefaultExecutorConfigParam { uint32 eid; ExecutorConfig config; }',
  'struct Price { uint128 priceRatio; uint64 gasPriceInUnit; uint32 gasPerByte; }',
  'struct UpdatePrice { uint32 eid; Price price; }',
  'struct ExecutorDstConfigParam { uint32 dstEid; uint64 lzReceiveBaseGas; uint64 lzComposeBaseGas; uint16 multiplierBps; uint128 floorMarginUSD; uint128 nativeCap; }',
  'struct DvnDstConfigParam { uint32 dstEid; uint64 gas; uint16 multiplierBps; uint128 floorMarginUSD; }',
  'struct DvnExecuteParam { uint32 vid; address target; bytes callData; uint256 expiration; bytes signatures; }',
  'struct ExecutionParams { address receiver; Origin origin; bytes32 guid; bytes message; bytes extraData; uint256 gasLimit; }',
] as const;

/** The endpoint's errors that a relayer meets (also through the ULN), so a revert reads by name. */
const endpointErrors = [
  'error LZ_PayloadHashNotFound(bytes32 expected, bytes32 actual)',
  'error LZ_InvalidNonce(uint64 nonce)',
  'error LZ_InsufficientFee(uint256 requiredNative, uint256 suppliedNative, uint256 requiredLzToken, uint256 suppliedLzToken)',
  'error LZ_PathNotInitializable()',
  'error LZ_PathNotVerifiable()',
  'error LZ_Unauthorized()',
] as const;

export const endpointAbi = parseAbi([
  ...structs,
  'function eid() view returns (uint32)',
  'function quote(MessagingParams params, address sender) view returns (MessagingFee)',
  'function registerLibrary(address lib)',
  'function setDefaultSendLibrary(uint32 eid, address lib)',
  'function setDefaultReceiveLibrary(uint32 eid, address lib, uint256 gracePeriod)',
  'function defaultSendLibrary(uint32 eid) view returns (address)',
  'function inboundNonce(address receiver, uint32 srcEid, bytes32 sender) view returns (uint64)',
  'function lazyInboundNonce(address receiver, uint32 srcEid, bytes32 sender) view returns (uint64)',
  'function inboundPayloadHash(address receiver, uint32 srcEid, bytes32 sender, uint64 nonce) view returns (bytes32)',
  'function outboundNonce(address sender, uint32 dstEid, bytes32 receiver) view returns (uint64)',
  'function nextGuid(address sender, uint32 dstEid, bytes32 receiver) view returns (bytes32)',
  'event PacketSent(bytes encodedPayload, bytes options, address sendLibrary)',
  'event PacketVerified(Origin origin, address receiver, bytes32 payloadHash)',
  'event PacketDelivered(Origin origin, address receiver)',
  'function lzReceive(Origin origin, address receiver, bytes32 guid, bytes message, bytes extraData) payable',
  ...endpointErrors,
  'event LzReceiveAlert(address indexed receiver, address indexed executor, Origin origin, bytes32 guid, uint256 gas, uint256 value, bytes message, bytes extraData, bytes reason)',
]);

export const endpointViewAbi = parseAbi([
  ...structs,
  'function initialize(address endpoint)',
  'function executable(Origin origin, address receiver) view returns (uint8)',
]);

export const sendUlnAbi = parseAbi([
  ...structs,
  'function setDefaultUlnConfigs(SetDefaultUlnConfigParam[] params)',
  'function setDefaultExecutorConfigs(SetDefaultExecutorConfigParam[] params)',
]);

export const receiveUlnAbi = parseAbi([
  ...structs,
  'function setDefaultUlnConfigs(SetDefaultUlnConfigParam[] params)',
  'function verify(bytes packetHeader, bytes32 payloadHash, uint64 confirmations)',
  'function commitVerification(bytes packetHeader, bytes32 payloadHash)',
  ...endpointErrors,
  'event PayloadVerified(address dvn, bytes header, uint256 confirmations, bytes32 proofHash)',
]);

export const priceFeedAbi = parseAbi([...structs, 'function initialize(address priceUpdater)', 'function setPrice(UpdatePrice[] prices)']);

export const executorAbi = parseAbi([
  ...structs,
  'function initialize(address endpoint, address receiveUln301, address[] messageLibs, address priceFeed, address roleAdmin, address[] admins)',
  'function setWorkerFeeLib(address feeLib)',
  'function setDstConfig(ExecutorDstConfigParam[] params)',
  'function execute302(ExecutionParams params) payable',
]);

export const dvnAbi = parseAbi([
  ...structs,
  'function setWorkerFeeLib(address feeLib)',
  'function setDstConfig(DvnDstConfigParam[] params)',
  'function execute(DvnExecuteParam[] params)',
  'function hashCallData(uint32 vid, address target, bytes callData, uint256 expiration) pure returns (bytes32)',
  'event VerifySignaturesFailed(uint256 idx)',
]);

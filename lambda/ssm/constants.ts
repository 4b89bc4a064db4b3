/**
 * Wire layout of one SSM Session Manager data-channel frame (ClientMessage / AgentMessage).
 * All integers are big-endian. HeaderLength is the offset of PayloadLength, not of the payload.
 *
 *   0        4                                 36       40            48            56       64
 *   | HdrLen | MessageType (32, space padded)   | Schema | CreatedDate   | SequenceNum   | Flags  |
 *   64                       80                          112       116       120
 *   | MessageId (16, halves swapped) | PayloadDigest (32) | PayloadType | PayloadLength | Payload ...
 */
export const HEADER_LENGTH_SIZE = 4;
export const MESSAGE_TYPE_SIZE = 32;
export const SCHEMA_VERSION_SIZE = 4;
export const CREATED_DATE_SIZE = 8;
export const SEQUENCE_NUMBER_SIZE = 8;
export const FLAGS_SIZE = 8;
export const MESSAGE_ID_SIZE = 16;
export const PAYLOAD_DIGEST_SIZE = 32;
export const PAYLOAD_TYPE_SIZE = 4;
export const PAYLOAD_LENGTH_SIZE = 4;

export const HEADER_LENGTH_OFFSET = 0;
export const MESSAGE_TYPE_OFFSET = HEADER_LENGTH_OFFSET + HEADER_LENGTH_SIZE;
export const SCHEMA_VERSION_OFFSET = MESSAGE_TYPE_OFFSET + MESSAGE_TYPE_SIZE;
export const CREATED_DATE_OFFSET = SCHEMA_VERSION_OFFSET + SCHEMA_VERSION_SIZE;
export const SEQUENCE_NUMBER_OFFSET = CREATED_DATE_OFFSET + CREATED_DATE_SIZE;
export const FLAGS_OFFSET = SEQUENCE_NUMBER_OFFSET + SEQUENCE_NUMBER_SIZE;
export const MESSAGE_ID_OFFSET = FLAGS_OFFSET + FLAGS_SIZE;
export const PAYLOAD_DIGEST_OFFSET = MESSAGE_ID_OFFSET + MESSAGE_ID_SIZE;
export const PAYLOAD_TYPE_OFFSET = PAYLOAD_DIGEST_OFFSET + PAYLOAD_DIGEST_SIZE;
export const PAYLOAD_LENGTH_OFFSET = PAYLOAD_TYPE_OFFSET + PAYLOAD_TYPE_SIZE;
export const PAYLOAD_OFFSET = PAYLOAD_LENGTH_OFFSET + PAYLOAD_LENGTH_SIZE;

/** The value both reference implementations write into HeaderLength (the offset of PayloadLength). */
export const HEADER_LENGTH = PAYLOAD_LENGTH_OFFSET;
export const SCHEMA_VERSION = 1;

export const FLAG_SYN = 1n;
export const FLAG_FIN = 2n;
/** Acknowledge frames carry SYN|FIN (3) from both reference implementations. */
export const ACK_FLAGS = FLAG_SYN | FLAG_FIN;

export const MessageType = {
  InputStreamData: 'input_stream_data',
  OutputStreamData: 'output_stream_data',
  Acknowledge: 'acknowledge',
  ChannelClosed: 'channel_closed',
  StartPublication: 'start_publication',
  PausePublication: 'pause_publication',
} as const;
export type KnownMessageType = (typeof MessageType)[keyof typeof MessageType];

export const PayloadType = {
  None: 0,
  Output: 1,
  Error: 2,
  Size: 3,
  Parameter: 4,
  HandshakeRequest: 5,
  HandshakeResponse: 6,
  HandshakeComplete: 7,
  EncChallengeRequest: 8,
  EncChallengeResponse: 9,
  Flag: 10,
  StdErr: 11,
  ExitCode: 12,
} as const;
export type PayloadType = (typeof PayloadType)[keyof typeof PayloadType];

export const FlagValue = {
  DisconnectToPort: 1,
  TerminateSession: 2,
  ConnectToPortError: 3,
} as const;

export const HandshakeActionType = {
  SessionType: 'SessionType',
  KmsEncryption: 'KMSEncryption',
} as const;

export const ActionStatus = {
  Success: 1,
  Failed: 2,
  Unsupported: 3,
} as const;

/** Sent in the open frame and the HandshakeResponse; dotted and numeric because the agent compares it. */
export const CLIENT_VERSION = '1.2.677.0';
export const MESSAGE_SCHEMA_VERSION = '1.0';

/** AES-256-GCM as both ends use it: 12-byte nonce in front, 16-byte tag at the back, no AAD. */
export const KMS_DATA_KEY_BYTES = 64;
export const AES_KEY_BYTES = 32;
export const GCM_NONCE_BYTES = 12;
export const GCM_TAG_BYTES = 16;

/** The agent reads the pty in chunks of this size. */
export const AGENT_STREAM_CHUNK_BYTES = 1024;

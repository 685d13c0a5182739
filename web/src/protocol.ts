// The socket protocol as this client uses it: event names, payloads and acknowledgements.
// The server's definition is libs/Common/Contracts/SocketProtocol.swift (and VoiceProtocol.swift),
// described by libs/Common/Resources/asyncapi.json; test/protocol.test.ts checks every name and
// field declared here against that document, so a drift between the two fails a test.

import { Infer, s } from './schema';

// MARK: Shared pieces

export const PresenceStatus = s.enumOf('in_call', 'online', 'away', 'offline');
export type PresenceStatus = Infer<typeof PresenceStatus>;

/** What a client may set with `presence:update`. */
export const SettablePresence = s.enumOf('online', 'away', 'in_call');
export type SettablePresence = Infer<typeof SettablePresence>;

export const Role = s.enumOf('admin', 'member');
export type Role = Infer<typeof Role>;

export const ErrorBody = s.object({
  code: s.string,
  message: s.string,
});
export type ErrorBody = Infer<typeof ErrorBody>;

export const AckFailure = s.object({ error: ErrorBody });

export const RoomRef = s.object({ roomId: s.uuid });
export type RoomRef = Infer<typeof RoomRef>;

export const RoomSettings = s.object({
  isPublic: s.boolean,
  allowGuests: s.boolean,
  requireApproval: s.boolean,
  recordMessages: s.boolean,
});
export type RoomSettings = Infer<typeof RoomSettings>;

export const Member = s.object({
  userId: s.uuid,
  username: s.string,
  avatarUrl: s.optional(s.string),
  role: Role,
  joinedAt: s.dateTime,
});
export type Member = Infer<typeof Member>;

export const Room = s.object({
  id: s.uuid,
  code: s.string,
  name: s.string,
  description: s.optional(s.string),
  createdBy: s.uuid,
  maxUsers: s.integer,
  settings: RoomSettings,
  isActive: s.boolean,
  memberCount: s.integer,
  createdAt: s.dateTime,
  lastActivity: s.dateTime,
  participants: s.optional(s.array(Member)),
});
export type Room = Infer<typeof Room>;

export const Author = s.object({
  id: s.uuid,
  username: s.string,
  avatarUrl: s.nullable(s.string),
});
export type Author = Infer<typeof Author>;

export const FileInfo = s.object({
  id: s.uuid,
  name: s.string,
  size: s.integer,
  mimeType: s.string,
  url: s.string,
});
export type FileInfo = Infer<typeof FileInfo>;

export const MessageType = s.enumOf('text', 'file', 'voice_note', 'system');
export type MessageType = Infer<typeof MessageType>;

export const Message = s.object({
  id: s.uuid,
  roomId: s.uuid,
  seq: s.optional(s.integer),
  content: s.string,
  type: MessageType,
  author: s.optional(Author),
  file: s.optional(FileInfo),
  createdAt: s.dateTime,
  editedAt: s.optional(s.dateTime),
  deletedAt: s.optional(s.dateTime),
});
export type Message = Infer<typeof Message>;

export const Participant = s.object({
  userId: s.uuid,
  username: s.string,
  avatarUrl: s.optional(s.string),
  role: Role,
  joinedAt: s.dateTime,
  status: PresenceStatus,
});
export type Participant = Infer<typeof Participant>;

export const VoiceParticipant = s.object({
  userId: s.uuid,
  username: s.string,
  sessionId: s.uuid,
  muted: s.boolean,
  deafened: s.boolean,
  speaking: s.boolean,
});
export type VoiceParticipant = Infer<typeof VoiceParticipant>;

export const IceServer = s.object({
  urls: s.array(s.string),
  username: s.optional(s.string),
  credential: s.optional(s.string),
});
export type IceServer = Infer<typeof IceServer>;

export const VoiceLeaveReason = s.enumOf('left', 'disconnected', 'moved', 'kicked', 'room_deleted');
export type VoiceLeaveReason = Infer<typeof VoiceLeaveReason>;

// MARK: Client → server, with acknowledgements

export const RoomJoinAck = s.object({
  roomId: s.uuid,
  participants: s.array(Participant),
  room: Room,
  voiceParticipants: s.array(VoiceParticipant),
});
export type RoomJoinAck = Infer<typeof RoomJoinAck>;

export const VoiceJoinAck = s.object({
  roomId: s.uuid,
  sessionId: s.uuid,
  mode: s.enumOf('mesh'),
  participants: s.array(VoiceParticipant),
  iceServers: s.array(IceServer),
});
export type VoiceJoinAck = Infer<typeof VoiceJoinAck>;

export const VoiceStateChanged = s.object({
  roomId: s.uuid,
  userId: s.uuid,
  sessionId: s.uuid,
  muted: s.boolean,
  deafened: s.boolean,
});
export type VoiceStateChanged = Infer<typeof VoiceStateChanged>;

export const VoiceSpeakingChanged = s.object({
  roomId: s.uuid,
  userId: s.uuid,
  sessionId: s.uuid,
  speaking: s.boolean,
});
export type VoiceSpeakingChanged = Infer<typeof VoiceSpeakingChanged>;

/** Every event the client sends: its payload and its acknowledgement. */
export const clientEvents = {
  'room:join': { request: s.object({ roomId: s.uuid, lastSeq: s.optional(s.integer) }), ack: RoomJoinAck },
  'room:leave': { request: RoomRef, ack: RoomRef },
  'message:send': {
    request: s.object({
      roomId: s.uuid,
      content: s.string,
      type: s.optional(s.enumOf('text', 'file')),
      fileId: s.optional(s.uuid),
    }),
    ack: s.object({ message: Message }),
  },
  'typing:start': { request: RoomRef, ack: RoomRef },
  'typing:stop': { request: RoomRef, ack: RoomRef },
  'presence:update': { request: s.object({ status: SettablePresence }), ack: s.object({ status: PresenceStatus }) },
  'auth:refresh': { request: s.object({ token: s.string }), ack: s.object({ ok: s.boolean }) },
  'voice:join': { request: s.object({ roomId: s.uuid }), ack: VoiceJoinAck },
  'voice:leave': { request: RoomRef, ack: RoomRef },
  'voice:signal': { request: s.object({ to: s.uuid, data: s.json }), ack: s.object({ ok: s.boolean }) },
  'voice:state': {
    request: s.object({ roomId: s.uuid, muted: s.optional(s.boolean), deafened: s.optional(s.boolean) }),
    ack: VoiceStateChanged,
  },
  'voice:speaking': { request: s.object({ roomId: s.uuid, speaking: s.boolean }), ack: VoiceSpeakingChanged },
} as const;

export type ClientEventName = keyof typeof clientEvents;
export type RequestOf<E extends ClientEventName> = Infer<(typeof clientEvents)[E]['request']>;
export type AckOf<E extends ClientEventName> = Infer<(typeof clientEvents)[E]['ack']>;

// MARK: Server → client

const MemberChanged = s.object({ roomId: s.uuid, member: Member });
const MemberGone = s.object({ roomId: s.uuid, userId: s.uuid });

/** Every event the client listens to, with its payload. */
export const serverEvents = {
  'room:joined': s.object({ roomId: s.uuid, participants: s.array(Participant) }),
  'room:user_joined': s.object({
    roomId: s.uuid,
    userId: s.uuid,
    username: s.string,
    status: PresenceStatus,
    timestamp: s.dateTime,
  }),
  'room:user_left': s.object({ roomId: s.uuid, userId: s.uuid, timestamp: s.dateTime }),
  'message:received': Message,
  'message:edited': s.object({ message: Message }),
  'message:deleted': s.object({ roomId: s.uuid, message: Message }),
  'user:typing': s.object({ roomId: s.uuid, userId: s.uuid, username: s.string }),
  'user:stopped_typing': s.object({ roomId: s.uuid, userId: s.uuid }),
  'user:presence_changed': s.object({ userId: s.uuid, status: PresenceStatus }),
  'room:member_joined': MemberChanged,
  'room:member_left': MemberGone,
  'room:member_kicked': MemberGone,
  'room:member_role_changed': MemberChanged,
  'room:updated': s.object({ roomId: s.uuid, room: Room }),
  'room:deleted': RoomRef,
  'room:kicked': RoomRef,
  'room:left': RoomRef,
  error: ErrorBody,
  'voice:user_joined': s.object({
    roomId: s.uuid,
    userId: s.uuid,
    username: s.string,
    sessionId: s.uuid,
    muted: s.boolean,
    deafened: s.boolean,
  }),
  'voice:user_left': s.object({ roomId: s.uuid, userId: s.uuid, sessionId: s.uuid, reason: VoiceLeaveReason }),
  'voice:signal': s.object({ from: s.uuid, userId: s.uuid, data: s.json }),
  'voice:state_changed': VoiceStateChanged,
  'voice:speaking': VoiceSpeakingChanged,
} as const;

export type ServerEventName = keyof typeof serverEvents;
export type PayloadOf<E extends ServerEventName> = Infer<(typeof serverEvents)[E]>;

/** The `data` of a `connect_error` the gateway sends when it refuses a connection. */
export const ConnectRefusal = s.object({ code: s.string });

/** Error codes the client acts on. */
export const ErrorCodes = {
  tokenExpired: 'TOKEN_EXPIRED',
  sessionEnded: 'SESSION_ENDED',
  unauthorized: 'UNAUTHORIZED',
  refreshTokenReused: 'REFRESH_TOKEN_REUSED',
  slowConsumer: 'SLOW_CONSUMER',
  voiceFull: 'VOICE_FULL',
} as const;

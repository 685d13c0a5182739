// The REST calls the client makes (README "API", libs/Common/Resources/openapi.json).

import type { FileInfo, Member, Message, Role, Room, VoiceParticipant } from '../protocol';
import { Http } from './http';
import type { CreateRoomBody, JoinOutcome, JoinRequest, Page, SessionBody, UpdateRoomBody, User } from './types';
import { uploadFile, UploadProgress } from './upload';

export interface HistoryQuery {
  before?: number;
  after?: number;
  limit?: number;
}

const enc = encodeURIComponent;

export function createApi(http: Http, token: () => string | null, refresh: () => Promise<string | null>) {
  return {
    auth: {
      register: (body: { username: string; email: string; password: string; confirmPassword: string }) =>
        http.json<SessionBody>('POST', '/api/v1/auth/register', { body, auth: false }),
      login: (body: { email: string; password: string }) =>
        http.json<SessionBody>('POST', '/api/v1/auth/login', { body, auth: false }),
      guest: (displayName: string) =>
        http.json<SessionBody>('POST', '/api/v1/auth/guest', { body: { displayName }, auth: false }),
      me: () => http.json<User>('GET', '/api/v1/users/me'),
    },
    rooms: {
      list: (scope: 'mine' | 'public', page = 1, limit = 100) =>
        http.json<Page<Room>>('GET', '/api/v1/rooms', { query: { scope, page, limit } }),
      get: (roomId: string) => http.json<Room>('GET', `/api/v1/rooms/${enc(roomId)}`),
      create: (body: CreateRoomBody) => http.json<Room>('POST', '/api/v1/rooms', { body }),
      update: (roomId: string, body: UpdateRoomBody) => http.json<Room>('PATCH', `/api/v1/rooms/${enc(roomId)}`, { body }),
      remove: (roomId: string) => http.json<{ success: boolean }>('DELETE', `/api/v1/rooms/${enc(roomId)}`),
      async joinByCode(code: string): Promise<JoinOutcome> {
        const { status, body } = await http.jsonWithStatus<{ roomId: string; participants: Member[] } | JoinRequest>(
          'POST',
          `/api/v1/rooms/${enc(code)}/join`,
        );
        if (status === 202) return { kind: 'pending', request: body as JoinRequest };
        const joined = body as { roomId: string; participants: Member[] };
        return { kind: 'joined', roomId: joined.roomId, participants: joined.participants };
      },
      leave: (roomId: string) => http.json<{ success: boolean }>('POST', `/api/v1/rooms/${enc(roomId)}/leave`),
      members: (roomId: string) => http.json<{ members: Member[] }>('GET', `/api/v1/rooms/${enc(roomId)}/members`),
      setRole: (roomId: string, userId: string, role: Role) =>
        http.json<Member>('PATCH', `/api/v1/rooms/${enc(roomId)}/members/${enc(userId)}`, { body: { role } }),
      kick: (roomId: string, userId: string) =>
        http.json<{ success: boolean }>('DELETE', `/api/v1/rooms/${enc(roomId)}/members/${enc(userId)}`),
      requests: (roomId: string) => http.json<{ requests: JoinRequest[] }>('GET', `/api/v1/rooms/${enc(roomId)}/requests`),
      decide: (roomId: string, requestId: string, decision: 'approve' | 'reject') =>
        http.json<unknown>('POST', `/api/v1/rooms/${enc(roomId)}/requests/${enc(requestId)}/${decision}`),
      voice: (roomId: string) =>
        http.json<{ roomId: string; participants: VoiceParticipant[] }>('GET', `/api/v1/rooms/${enc(roomId)}/voice`),
    },
    messages: {
      history: (roomId: string, query: HistoryQuery) =>
        http.json<Page<Message>>('GET', `/api/v1/rooms/${enc(roomId)}/messages`, { query: { limit: 50, ...query } }),
      edit: (messageId: string, content: string) =>
        http.json<Message>('PATCH', `/api/v1/messages/${enc(messageId)}`, { body: { content } }),
      remove: (messageId: string) => http.json<{ success: boolean }>('DELETE', `/api/v1/messages/${enc(messageId)}`),
    },
    files: {
      upload: (file: File, onProgress: UploadProgress, signal?: AbortSignal): Promise<FileInfo> =>
        uploadFile(file, { token, refresh, onProgress, ...(signal ? { signal } : {}) }),
      download: (url: string, signal?: AbortSignal) => http.blob(url, signal),
    },
  };
}

export type Api = ReturnType<typeof createApi>;

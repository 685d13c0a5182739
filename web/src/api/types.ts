// The REST API's bodies as the client reads them (libs/Common/Resources/openapi.json).

import type { Member, Room, RoomSettings } from '../protocol';

export interface User {
  id: string;
  username: string;
  email: string;
  avatarUrl: string | null;
  createdAt: string;
  updatedAt: string;
}

/** Register, login, guest and refresh: `{token, refreshToken, user, expiresIn}` (the browser ignores `refreshToken`; it travels in a cookie). */
export interface SessionBody {
  token: string;
  refreshToken?: string;
  user: User;
  expiresIn: number;
}

export interface Page<T> {
  data: T[];
  total: number;
  page?: number;
  limit?: number;
  hasMore: boolean;
}

export interface CreateRoomBody {
  name: string;
  description?: string;
  maxUsers?: number;
  settings?: Partial<RoomSettings>;
}

export type UpdateRoomBody = Partial<CreateRoomBody>;

/** `POST /rooms/:code/join`: 200 joined, or 202 waiting for an admin's approval. */
export type JoinOutcome =
  | { kind: 'joined'; roomId: string; participants: Member[] }
  | { kind: 'pending'; request: JoinRequest };

export interface JoinRequest {
  id: string;
  roomId: string;
  userId: string;
  username: string;
  status: string;
  createdAt: string;
}

export type { Room };

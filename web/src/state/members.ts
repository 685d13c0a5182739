// Who belongs to each open room, with their role and presence.

import type { Member, Participant, PresenceStatus, Role } from '../protocol';
import type { Action } from './app-state';

export interface RoomMember {
  readonly userId: string;
  readonly username: string;
  readonly avatarUrl?: string;
  readonly role: Role;
  readonly status: PresenceStatus;
}

export type MembersState = Readonly<Record<string, Readonly<Record<string, RoomMember>>>>;

export type MembersAction =
  | { type: 'members/set'; roomId: string; participants: readonly Participant[] }
  | { type: 'members/opened'; roomId: string; userId: string; username: string; status: PresenceStatus }
  | { type: 'members/closed'; roomId: string; userId: string }
  | { type: 'members/joined'; roomId: string; member: Member }
  | { type: 'members/role'; roomId: string; member: Member }
  | { type: 'members/gone'; roomId: string; userId: string }
  | { type: 'presence/changed'; userId: string; status: PresenceStatus };

function inRoom(
  state: MembersState,
  roomId: string,
  change: (members: Readonly<Record<string, RoomMember>>) => Readonly<Record<string, RoomMember>>,
): MembersState {
  const current = state[roomId] ?? {};
  const next = change(current);
  return next === current ? state : { ...state, [roomId]: next };
}

function fromMember(member: Member, status: PresenceStatus): RoomMember {
  const base = { userId: member.userId, username: member.username, role: member.role, status };
  return member.avatarUrl ? { ...base, avatarUrl: member.avatarUrl } : base;
}

export function membersReducer(state: MembersState, action: Action): MembersState {
  switch (action.type) {
    case 'members/set':
      return {
        ...state,
        [action.roomId]: Object.fromEntries(action.participants.map((p) => [p.userId, fromMember(p, p.status)])),
      };
    case 'members/opened':
      return inRoom(state, action.roomId, (members) => {
        const known = members[action.userId];
        const member: RoomMember = known
          ? { ...known, username: action.username, status: action.status }
          : { userId: action.userId, username: action.username, role: 'member', status: action.status };
        return { ...members, [action.userId]: member };
      });
    case 'members/closed':
      return inRoom(state, action.roomId, (members) => {
        const known = members[action.userId];
        return known && known.status !== 'offline' ? { ...members, [action.userId]: { ...known, status: 'offline' } } : members;
      });
    case 'members/joined':
    case 'members/role':
      return inRoom(state, action.roomId, (members) => ({
        ...members,
        [action.member.userId]: fromMember(action.member, members[action.member.userId]?.status ?? 'offline'),
      }));
    case 'members/gone':
      return inRoom(state, action.roomId, (members) => {
        if (!(action.userId in members)) return members;
        const { [action.userId]: _gone, ...rest } = members;
        return rest;
      });
    case 'presence/changed': {
      let next = state;
      for (const roomId of Object.keys(state)) {
        next = inRoom(next, roomId, (members) => {
          const known = members[action.userId];
          return known && known.status !== action.status ? { ...members, [action.userId]: { ...known, status: action.status } } : members;
        });
      }
      return next;
    }
    default:
      return state;
  }
}

const statusRank: Record<PresenceStatus, number> = { in_call: 0, online: 1, away: 2, offline: 3 };

/** The member list's order: admins first, then who is around, then by name. */
export function sortedMembers(members: Readonly<Record<string, RoomMember>> | undefined): RoomMember[] {
  return Object.values(members ?? {}).sort(
    (a, b) =>
      Number(a.status === 'offline') - Number(b.status === 'offline') ||
      (a.role === b.role ? 0 : a.role === 'admin' ? -1 : 1) ||
      statusRank[a.status] - statusRank[b.status] ||
      a.username.localeCompare(b.username, undefined, { sensitivity: 'base' }),
  );
}

// The rooms the user belongs to (the sidebar) and the public ones (the directory).

import type { Room } from '../protocol';
import type { Action } from './app-state';

export interface RoomsState {
  readonly mine: Readonly<Record<string, Room>>;
  readonly loaded: boolean;
  readonly directory: readonly Room[] | null;
}

export const emptyRooms: RoomsState = { mine: {}, loaded: false, directory: null };

export type RoomsAction =
  | { type: 'rooms/loaded'; rooms: readonly Room[] }
  | { type: 'rooms/upsert'; room: Room }
  | { type: 'rooms/removed'; roomId: string }
  | { type: 'rooms/directory'; rooms: readonly Room[] };

export function roomsReducer(state: RoomsState, action: Action): RoomsState {
  switch (action.type) {
    case 'rooms/loaded':
      return { ...state, loaded: true, mine: Object.fromEntries(action.rooms.map((room) => [room.id, room])) };
    case 'rooms/upsert': {
      // A room's participants come only on single-room reads: keep the ones held when an update has none.
      const held = state.mine[action.room.id];
      const room = action.room.participants || !held?.participants ? action.room : { ...action.room, participants: held.participants };
      return { ...state, mine: { ...state.mine, [room.id]: room } };
    }
    case 'rooms/removed': {
      if (!(action.roomId in state.mine)) return state;
      const { [action.roomId]: _gone, ...mine } = state.mine;
      return { ...state, mine };
    }
    case 'rooms/directory':
      return { ...state, directory: action.rooms };
    default:
      return state;
  }
}

/** The sidebar's order: by name, as people look for them. */
export function sortedRooms(state: RoomsState): Room[] {
  return Object.values(state.mine).sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }));
}

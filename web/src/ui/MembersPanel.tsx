// Who belongs to the room, with presence (online, away, in a call, offline) and who is in voice;
// admins change roles and remove people from here.

import { useMemo, useState } from 'react';
import { RoomMember, sortedMembers } from '../state/members';
import { Avatar, presenceLabel } from './Avatar';
import { useAppState, useClient } from './context';
import { describeError } from './hooks';
import { Icon } from './icons';
import { useShell } from './shell-context';

export function MembersPanel({ roomId }: { roomId: string }) {
  const members = useAppState((state) => state.members[roomId]);
  const voiceRoom = useAppState((state) => state.voice.rooms[roomId]);
  const selfId = useAppState((state) => state.session.user?.id ?? null);
  const { isPhone, drawer, openDrawer } = useShell();
  const list = useMemo(() => sortedMembers(members), [members]);
  const inVoice = useMemo(() => new Set(Object.values(voiceRoom ?? {}).map((p) => p.userId)), [voiceRoom]);
  const isAdmin = selfId !== null && members?.[selfId]?.role === 'admin';
  const around = list.filter((member) => member.status !== 'offline');
  const away = list.filter((member) => member.status === 'offline');

  return (
    <section className="members" id="members" aria-label="Members" data-open={drawer === 'members' ? 'true' : 'false'}>
      <header className="members-header">
        <h2>Members</h2>
        <span className="members-count">{list.length}</span>
        {isPhone && (
          <button type="button" className="icon-button" aria-label="Close members" onClick={() => openDrawer(null)}>
            <Icon name="close" />
          </button>
        )}
      </header>
      <MemberGroup title="Online" members={around} roomId={roomId} inVoice={inVoice} selfId={selfId} isAdmin={isAdmin} />
      <MemberGroup title="Offline" members={away} roomId={roomId} inVoice={inVoice} selfId={selfId} isAdmin={isAdmin} />
    </section>
  );
}

function MemberGroup(props: {
  title: string;
  members: RoomMember[];
  roomId: string;
  inVoice: Set<string>;
  selfId: string | null;
  isAdmin: boolean;
}) {
  if (props.members.length === 0) return null;
  return (
    <div className="member-group">
      <h3>
        {props.title} — {props.members.length}
      </h3>
      <ul className="member-list">
        {props.members.map((member) => (
          <MemberItem key={member.userId} member={member} {...props} />
        ))}
      </ul>
    </div>
  );
}

function MemberItem({
  member,
  roomId,
  inVoice,
  selfId,
  isAdmin,
}: {
  member: RoomMember;
  roomId: string;
  inVoice: Set<string>;
  selfId: string | null;
  isAdmin: boolean;
}) {
  const client = useClient();
  const [open, setOpen] = useState(false);
  const self = member.userId === selfId;
  const voice = inVoice.has(member.userId);
  const status = voice && member.status !== 'offline' ? 'in_call' : member.status;

  const act = async (action: () => Promise<void>) => {
    setOpen(false);
    try {
      await action();
    } catch (error) {
      client.toast(describeError(error), 'error');
    }
  };

  return (
    <li className="member" data-status={status} data-user-id={member.userId}>
      <Avatar userId={member.userId} name={member.username} status={status} />
      <span className="member-name">
        {member.username}
        {self && <span className="member-you"> (you)</span>}
        <span className="visually-hidden">, {presenceLabel(status)}</span>
      </span>
      {member.role === 'admin' && <span className="role-badge">admin</span>}
      {voice && (
        <span className="member-voice" title="In voice">
          <Icon name="headphones" />
          <span className="visually-hidden">, in voice</span>
        </span>
      )}
      {isAdmin && !self && (
        <div className="member-menu">
          <button type="button" className="icon-button" aria-label={`Actions for ${member.username}`} aria-expanded={open} onClick={() => setOpen(!open)}>
            <Icon name="more" />
          </button>
          {open && (
            <div className="member-menu-items">
              {member.role === 'member' ? (
                <button type="button" className="button small" onClick={() => void act(() => client.rooms.setRole(roomId, member.userId, 'admin'))}>
                  Make admin
                </button>
              ) : (
                <button type="button" className="button small" onClick={() => void act(() => client.rooms.setRole(roomId, member.userId, 'member'))}>
                  Make member
                </button>
              )}
              <button
                type="button"
                className="button small danger"
                onClick={() => {
                  if (window.confirm(`Remove ${member.username} from the room?`)) void act(() => client.rooms.kick(roomId, member.userId));
                }}
              >
                Kick
              </button>
            </div>
          )}
        </div>
      )}
    </li>
  );
}

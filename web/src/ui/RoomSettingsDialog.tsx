// An admin's room settings: name, description, size and settings; pending join requests; deletion.

import { useEffect, useState } from 'react';
import type { JoinRequest } from '../api/types';
import type { Room } from '../protocol';
import { useClient, useNavigate } from './context';
import { Dialog } from './Dialog';
import { describeError, useAction } from './hooks';
import { RoomDraft, RoomForm } from './RoomForm';

export function RoomSettingsDialog({ room, onClose }: { room: Room; onClose: () => void }) {
  const client = useClient();
  const navigate = useNavigate();
  const { busy, error, run } = useAction();
  const [draft, setDraft] = useState<RoomDraft>({
    name: room.name,
    description: room.description ?? '',
    maxUsers: room.maxUsers,
    settings: room.settings,
  });

  const save = () =>
    void run(async () => {
      await client.rooms.update(room.id, {
        name: draft.name.trim(),
        description: draft.description.trim(),
        maxUsers: draft.maxUsers,
        settings: draft.settings,
      });
      onClose();
    });

  const remove = () => {
    if (!window.confirm(`Delete ${room.name} for everyone? Its messages go with it.`)) return;
    void run(async () => {
      await client.rooms.remove(room.id);
      onClose();
      navigate('/');
    });
  };

  return (
    <Dialog title="Room settings" onClose={onClose} wide>
      <RoomForm draft={draft} onChange={setDraft} onSubmit={save} submitLabel="Save changes" busy={busy} error={error} />
      <JoinRequests roomId={room.id} />
      <section className="settings-section danger-zone">
        <h3>Delete the room</h3>
        <p className="form-hint">Everyone loses the room and its history.</p>
        <button type="button" className="button danger" disabled={busy} onClick={remove}>
          Delete room
        </button>
      </section>
    </Dialog>
  );
}

function JoinRequests({ roomId }: { roomId: string }) {
  const client = useClient();
  const [requests, setRequests] = useState<JoinRequest[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    client.api.rooms
      .requests(roomId)
      .then(({ requests: list }) => setRequests(list.filter((request) => request.status === 'pending')))
      .catch((caught: unknown) => setError(describeError(caught)));
  }, [client, roomId]);

  const decide = async (request: JoinRequest, decision: 'approve' | 'reject') => {
    try {
      await client.api.rooms.decide(roomId, request.id, decision);
      setRequests((list) => list?.filter((item) => item.id !== request.id) ?? null);
    } catch (caught) {
      setError(describeError(caught));
    }
  };

  return (
    <section className="settings-section">
      <h3>Join requests</h3>
      {error && <p className="form-error">{error}</p>}
      {requests?.length === 0 && <p className="form-hint">Nobody is waiting.</p>}
      <ul className="requests">
        {requests?.map((request) => (
          <li key={request.id} className="request">
            <span>{request.username}</span>
            <button type="button" className="button small primary" aria-label={`Approve ${request.username}`} onClick={() => void decide(request, 'approve')}>
              Approve
            </button>
            <button type="button" className="button small" aria-label={`Reject ${request.username}`} onClick={() => void decide(request, 'reject')}>
              Reject
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

// Creating a room: name, description, size and the four settings.

import { useState } from 'react';
import { useClient, useNavigate } from './context';
import { Dialog } from './Dialog';
import { useAction } from './hooks';
import { newRoomDraft, RoomDraft, RoomForm } from './RoomForm';

export function CreateRoomDialog({ onClose }: { onClose: () => void }) {
  const client = useClient();
  const navigate = useNavigate();
  const { busy, error, run } = useAction();
  const [draft, setDraft] = useState<RoomDraft>(newRoomDraft);

  const create = () =>
    void run(async () => {
      const description = draft.description.trim();
      const room = await client.rooms.create({
        name: draft.name.trim(),
        ...(description ? { description } : {}),
        maxUsers: draft.maxUsers,
        settings: draft.settings,
      });
      onClose();
      navigate(`/rooms/${room.id}`);
    });

  return (
    <Dialog title="Create a room" onClose={onClose}>
      <RoomForm draft={draft} onChange={setDraft} onSubmit={create} submitLabel="Create" busy={busy} error={error} autoFocus />
    </Dialog>
  );
}

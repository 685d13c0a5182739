// A room: its header, voice, messages and composer, and the member list; files dropped anywhere
// on it are attached.

import { DragEvent, useEffect, useRef, useState } from 'react';
import type { OpenResult } from '../app/client';
import { emptyChannel } from '../state/timeline';
import { Composer, ComposerHandle } from './Composer';
import { useAppState, useClient } from './context';
import { Link } from './Link';
import { MembersPanel } from './MembersPanel';
import { MessageList } from './MessageList';
import { ViewHeader } from './PhoneHeader';
import { RoomHeader } from './RoomHeader';
import { lastOwnMessage } from './rows';
import { VoiceBar } from './VoiceBar';

function hasFiles(event: DragEvent): boolean {
  return [...event.dataTransfer.types].includes('Files');
}

export function RoomView({ roomId }: { roomId: string }) {
  const client = useClient();
  const room = useAppState((state) => state.rooms.mine[roomId]);
  const selfId = useAppState((state) => state.session.user?.id ?? null);
  const isGuest = useAppState((state) => state.session.isGuest);
  const messages = useAppState((state) => (state.channels[roomId] ?? emptyChannel).messages);
  const [status, setStatus] = useState<OpenResult | 'opening'>('opening');
  const [editingId, setEditingId] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const dragDepth = useRef(0);
  const composer = useRef<ComposerHandle>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    let live = true;
    void client.rooms.open(roomId).then((result) => {
      if (live) setStatus(result);
    });
    return () => {
      live = false;
      client.rooms.close(roomId);
      client.messages.stopTyping(roomId);
    };
  }, [client, roomId]);

  // Focus goes to the room's name when it opens (a route change).
  const hasRoom = Boolean(room);
  useEffect(() => {
    if (hasRoom) heading.current?.focus({ preventScroll: true });
  }, [hasRoom, roomId]);

  if (!room) {
    return (
      <section className="empty-view">
        <ViewHeader>
          <h1 tabIndex={-1}>{status === 'opening' ? 'Opening…' : 'Room not available'}</h1>
        </ViewHeader>
        {status !== 'opening' && (
          <>
            <p>You are not a member of this room, or it no longer exists. Join it with its code or an invite link.</p>
            <Link className="button" href="/">
              Go home
            </Link>
          </>
        )}
      </section>
    );
  }

  const editLast = () => {
    const message = lastOwnMessage(messages, selfId);
    if (!message || message.type !== 'text') return false;
    setEditingId(message.id);
    return true;
  };

  const endEdit = (messageId: string | null) => {
    setEditingId(messageId);
    if (messageId === null) composer.current?.focus();
  };

  const drag = {
    onDragEnter: (event: DragEvent) => {
      if (isGuest || !hasFiles(event)) return;
      dragDepth.current += 1;
      setDragging(true);
    },
    onDragOver: (event: DragEvent) => {
      if (isGuest || !hasFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = 'copy';
    },
    onDragLeave: () => {
      dragDepth.current = Math.max(0, dragDepth.current - 1);
      if (dragDepth.current === 0) setDragging(false);
    },
    onDrop: (event: DragEvent) => {
      if (isGuest || !hasFiles(event)) return;
      event.preventDefault();
      dragDepth.current = 0;
      setDragging(false);
      composer.current?.addFiles([...event.dataTransfer.files]);
    },
  };

  return (
    <div className="room" {...drag}>
      <RoomHeader room={room} heading={heading} />
      <VoiceBar roomId={roomId} />
      <div className="room-body">
        <div className="room-chat">
          {status === 'error' && (
            <p className="form-error room-error" role="alert">
              Could not load the messages.{' '}
              <button type="button" className="button small" onClick={() => void client.rooms.open(roomId).then(setStatus)}>
                Try again
              </button>
            </p>
          )}
          <MessageList roomId={roomId} editingId={editingId} onEdit={endEdit} />
          <Composer ref={composer} roomId={roomId} roomName={room.name} onEditLast={editLast} />
        </div>
        <MembersPanel roomId={roomId} />
      </div>
      {dragging && (
        <div className="drop-overlay" aria-hidden="true">
          Drop files to share them in {room.name}
        </div>
      )}
    </div>
  );
}

// One row of the message list: a message (with its author's header unless grouped), an
// outgoing one (sending, waiting, failed), a day separator or the new-messages line.

import { FormEvent, KeyboardEvent, memo, useEffect, useRef, useState } from 'react';
import type { Message } from '../protocol';
import type { Outgoing } from '../state/outbox';
import { Avatar } from './Avatar';
import { useClient } from './context';
import { FileAttachment } from './FileAttachment';
import { formatDay, formatFull, formatTime } from './format';
import { describeError } from './hooks';
import { Icon } from './icons';
import type { Row } from './rows';
import { MessageText } from './text';

interface RowProps {
  row: Row;
  selfId: string | null;
  canModerate: boolean;
  editing: boolean;
  onEdit: (messageId: string | null) => void;
}

export const MessageRow = memo(function MessageRow({ row, selfId, canModerate, editing, onEdit }: RowProps) {
  switch (row.kind) {
    case 'start':
      return <RoomStart />;
    case 'loading':
      return <div className="loading-row">Loading messages…</div>;
    case 'day':
      return (
        <div className="day-separator" role="separator">
          <span>{formatDay(row.at)}</span>
        </div>
      );
    case 'marker':
      return (
        <div className="unread-marker" role="separator" aria-label="New messages">
          <span aria-hidden="true">New messages</span>
        </div>
      );
    case 'message':
      return (
        <MessageItem message={row.message} grouped={row.grouped} selfId={selfId} canModerate={canModerate} editing={editing} onEdit={onEdit} />
      );
    case 'pending':
      return <PendingItem item={row.item} grouped={row.grouped} />;
  }
});

function RoomStart() {
  return (
    <div className="room-start">
      <h2>The start of the room</h2>
      <p>There is nothing older than this.</p>
    </div>
  );
}

function Header({ name, userId, at, edited }: { name: string; userId: string; at: string; edited: boolean }) {
  return (
    <header className="message-header">
      <span className="message-author" data-hue={userId}>
        {name}
      </span>
      <time dateTime={at} title={formatFull(at)}>
        {formatTime(at)}
      </time>
      {edited && <span className="message-edited">(edited)</span>}
    </header>
  );
}

function MessageItem({
  message,
  grouped,
  selfId,
  canModerate,
  editing,
  onEdit,
}: {
  message: Message;
  grouped: boolean;
  selfId: string | null;
  canModerate: boolean;
  editing: boolean;
  onEdit: (messageId: string | null) => void;
}) {
  const client = useClient();
  const author = message.author;
  const mine = author?.id === selfId;
  const deleted = Boolean(message.deletedAt);
  const system = message.type === 'system';
  const name = author?.username ?? (system ? 'VoiceFlow' : 'Deleted user');
  const userId = author?.id ?? 'system';

  const remove = async () => {
    if (!window.confirm('Delete this message? This cannot be undone.')) return;
    try {
      await client.messages.remove(message);
    } catch (error) {
      client.toast(describeError(error), 'error');
    }
  };

  return (
    <article className={`message${grouped ? ' message-grouped' : ''}${mine ? ' message-mine' : ''}${system ? ' message-system' : ''}`} data-seq={message.seq}>
      <div className="message-gutter">
        {grouped ? (
          <time className="message-gutter-time" dateTime={message.createdAt} title={formatFull(message.createdAt)}>
            {formatTime(message.createdAt)}
          </time>
        ) : (
          <Avatar userId={userId} name={name} />
        )}
      </div>
      <div className="message-body">
        {grouped ? (
          <span className="visually-hidden">
            {name}, {formatTime(message.createdAt)}:
          </span>
        ) : (
          <Header name={name} userId={userId} at={message.createdAt} edited={Boolean(message.editedAt) && !deleted} />
        )}
        {deleted ? (
          <p className="message-text message-deleted">This message was deleted.</p>
        ) : editing ? (
          <EditForm message={message} onDone={() => onEdit(null)} />
        ) : (
          <>
            {message.content && !(message.file && message.content === message.file.name) && <MessageText text={message.content} />}
            {message.file && <FileAttachment file={message.file} />}
            {grouped && message.editedAt && <span className="message-edited">(edited)</span>}
          </>
        )}
      </div>
      {!deleted && !editing && !system && (mine || canModerate) && (
        <div className="message-actions">
          {mine && message.type === 'text' && (
            <button type="button" className="icon-button" aria-label="Edit message" title="Edit" onClick={() => onEdit(message.id)}>
              <Icon name="edit" />
            </button>
          )}
          <button type="button" className="icon-button" aria-label="Delete message" title="Delete" onClick={() => void remove()}>
            <Icon name="trash" />
          </button>
        </div>
      )}
    </article>
  );
}

function EditForm({ message, onDone }: { message: Message; onDone: () => void }) {
  const client = useClient();
  const [text, setText] = useState(message.content);
  const [error, setError] = useState<string | null>(null);
  const field = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    const element = field.current;
    if (!element) return;
    element.focus();
    element.setSelectionRange(element.value.length, element.value.length);
  }, []);
  const save = async (event?: FormEvent) => {
    event?.preventDefault();
    const content = text.trim();
    if (!content || content === message.content) {
      onDone();
      return;
    }
    try {
      await client.messages.edit(message, content);
      onDone();
    } catch (caught) {
      setError(describeError(caught));
    }
  };
  const keys = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      onDone();
    } else if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      void save();
    }
  };
  return (
    <form className="edit-form" onSubmit={(event) => void save(event)}>
      <textarea ref={field} aria-label="Edit message" value={text} rows={2} maxLength={4000} onChange={(e) => setText(e.target.value)} onKeyDown={keys} />
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="edit-actions">
        <small>Escape to cancel, Enter to save</small>
        <button type="button" className="button small" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="button small primary">
          Save
        </button>
      </div>
    </form>
  );
}

const pendingText = { queued: 'Waiting for the connection…', sending: 'Sending…', failed: 'Not sent.' } as const;

function PendingItem({ item, grouped }: { item: Outgoing; grouped: boolean }) {
  const client = useClient();
  const user = client.store.getState().session.user;
  const name = user?.username ?? 'You';
  return (
    <article className={`message message-mine message-pending${grouped ? ' message-grouped' : ''}`} data-status={item.status}>
      <div className="message-gutter">{!grouped && <Avatar userId={user?.id ?? ''} name={name} />}</div>
      <div className="message-body">
        {!grouped && <Header name={name} userId={user?.id ?? ''} at={item.createdAt} edited={false} />}
        {item.content && !(item.file && item.content === item.file.name) && <MessageText text={item.content} />}
        {item.file && <FileAttachment file={item.file} />}
        <p className="message-status">
          {pendingText[item.status]}
          {item.status === 'failed' && item.error && ` ${item.error}`}
        </p>
        {item.status === 'failed' && (
          <div className="message-retry">
            <button type="button" className="button small" onClick={() => client.messages.retry(item.clientId)}>
              <Icon name="retry" />
              Retry
            </button>
            <button type="button" className="button small subtle" onClick={() => client.messages.discard(item.clientId)}>
              Discard
            </button>
          </div>
        )}
      </div>
    </article>
  );
}

// Writing a message: Enter sends, Shift+Enter breaks the line, Up (in an empty box) edits the last
// message of one's own. Files come by the button, by drag-and-drop or by paste; they upload at once,
// with progress, and go out with the next send. The typing line sits below.

import { forwardRef, KeyboardEvent, useEffect, useImperativeHandle, useMemo, useRef, useState } from 'react';
import { newId } from '../app/ids';
import type { FileInfo } from '../protocol';
import { typingLine } from '../state/typing';
import { useAppState, useClient } from './context';
import { isImage } from './files';
import { formatBytes } from './format';
import { describeError } from './hooks';
import { Icon } from './icons';

/** The largest upload the server takes (25 MiB). */
const maxFileBytes = 25 * 1024 * 1024;
const maxLength = 4000;

interface Attachment {
  id: string;
  file: File;
  preview: string | null;
  progress: number;
  status: 'uploading' | 'done' | 'failed';
  info?: FileInfo;
  error?: string;
  abort: AbortController;
}

export interface ComposerHandle {
  addFiles: (files: readonly File[]) => void;
  focus: () => void;
}

export interface ComposerProps {
  roomId: string;
  roomName: string;
  /** Up arrow in an empty box: edit the last message of one's own. */
  onEditLast: () => boolean;
}

export const Composer = forwardRef<ComposerHandle, ComposerProps>(function Composer({ roomId, roomName, onEditLast }, ref) {
  const client = useClient();
  const isGuest = useAppState((state) => state.session.isGuest);
  const selfId = useAppState((state) => state.session.user?.id ?? null);
  const typists = useAppState((state) => state.typing[roomId]);
  const line = useMemo(() => typingLine(typists, selfId), [typists, selfId]);
  const [text, setText] = useState('');
  const [attachments, setAttachments] = useState<Attachment[]>([]);
  const field = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  const live = useRef(attachments);
  live.current = attachments;

  // Object URLs of previews and uploads in flight go when the composer does.
  useEffect(
    () => () => {
      for (const attachment of live.current) {
        attachment.abort.abort();
        if (attachment.preview) URL.revokeObjectURL(attachment.preview);
      }
    },
    [],
  );

  const update = (id: string, change: Partial<Attachment>) =>
    setAttachments((list) => list.map((item) => (item.id === id ? { ...item, ...change } : item)));

  const addFiles = (files: readonly File[]) => {
    if (isGuest) {
      client.toast('Guests cannot upload files.', 'error');
      return;
    }
    for (const file of files) {
      if (file.size > maxFileBytes) {
        client.toast(`${file.name} is larger than 25 MB.`, 'error');
        continue;
      }
      const attachment: Attachment = {
        id: newId(),
        file,
        preview: isImage(file.type) ? URL.createObjectURL(file) : null,
        progress: 0,
        status: 'uploading',
        abort: new AbortController(),
      };
      setAttachments((list) => [...list, attachment]);
      client.messages
        .upload(file, (progress) => update(attachment.id, { progress }), attachment.abort.signal)
        .then((info) => update(attachment.id, { status: 'done', progress: 1, info }))
        .catch((error: unknown) => {
          if (error instanceof DOMException && error.name === 'AbortError') return;
          update(attachment.id, { status: 'failed', error: describeError(error) });
        });
    }
    field.current?.focus();
  };

  useImperativeHandle(ref, () => ({ addFiles, focus: () => field.current?.focus() }));

  const removeAttachment = (attachment: Attachment) => {
    attachment.abort.abort();
    if (attachment.preview) URL.revokeObjectURL(attachment.preview);
    setAttachments((list) => list.filter((item) => item.id !== attachment.id));
  };

  const ready = attachments.filter((item) => item.status === 'done' && item.info);
  const canSend = text.trim().length > 0 || ready.length > 0;

  const send = () => {
    const content = text.trim();
    if (!content && ready.length === 0) return;
    if (ready.length > 0) {
      // One message per file; the text goes with the first.
      ready.forEach((item, index) => client.messages.send(roomId, index === 0 && content ? content : item.info!.name, item.info!));
      for (const item of ready) if (item.preview) URL.revokeObjectURL(item.preview);
      setAttachments((list) => list.filter((item) => !ready.includes(item)));
    } else {
      client.messages.send(roomId, content);
    }
    setText('');
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      send();
    } else if (event.key === 'ArrowUp' && text === '' && !event.shiftKey) {
      if (onEditLast()) event.preventDefault();
    } else if (event.key === 'Escape' && attachments.length > 0 && text === '') {
      attachments.forEach(removeAttachment);
    }
  };

  const onChange = (value: string) => {
    setText(value);
    if (value.trim()) client.messages.typing(roomId);
    else client.messages.stopTyping(roomId);
  };

  return (
    <div className="composer">
      {attachments.length > 0 && (
        <ul className="attachment-tray" aria-label="Attachments">
          {attachments.map((item) => (
            <li key={item.id} className="attachment-chip" data-status={item.status}>
              {item.preview ? <img src={item.preview} alt="" /> : <Icon name="file" />}
              <div className="attachment-chip-text">
                <span className="attachment-name">{item.file.name}</span>
                <small>
                  {item.status === 'failed' ? item.error : item.status === 'done' ? `${formatBytes(item.file.size)} · ready` : formatBytes(item.file.size)}
                </small>
                {item.status === 'uploading' && (
                  <progress
                    max={100}
                    value={Math.round(item.progress * 100)}
                    aria-label={`Uploading ${item.file.name}`}
                  />
                )}
              </div>
              <button type="button" className="icon-button" aria-label={`Remove ${item.file.name}`} onClick={() => removeAttachment(item)}>
                <Icon name="close" />
              </button>
            </li>
          ))}
        </ul>
      )}
      <form
        className="composer-row"
        onSubmit={(event) => {
          event.preventDefault();
          send();
        }}
      >
        {!isGuest && (
          <>
            <button type="button" className="icon-button" aria-label="Attach file" title="Attach file" onClick={() => picker.current?.click()}>
              <Icon name="attach" />
            </button>
            <input
              ref={picker}
              type="file"
              multiple
              hidden
              tabIndex={-1}
              aria-hidden="true"
              onChange={(event) => {
                addFiles([...(event.target.files ?? [])]);
                event.target.value = '';
              }}
            />
          </>
        )}
        <textarea
          ref={field}
          className="composer-input"
          aria-label="Message"
          placeholder={`Message ${roomName}`}
          rows={Math.min(8, Math.max(1, text.split('\n').length))}
          maxLength={maxLength}
          value={text}
          onChange={(event) => onChange(event.target.value)}
          onKeyDown={onKeyDown}
          onBlur={() => client.messages.stopTyping(roomId)}
          onPaste={(event) => {
            const files = [...event.clipboardData.files];
            if (files.length > 0) {
              event.preventDefault();
              addFiles(files);
            }
          }}
        />
        <button type="submit" className="button primary send-button" disabled={!canSend}>
          <Icon name="send" />
          <span>Send</span>
        </button>
      </form>
      <div className="typing-line" aria-live="off">
        {line}
      </div>
    </div>
  );
});

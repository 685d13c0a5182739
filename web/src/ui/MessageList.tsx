// The room's messages: a windowed list (only the rows near the viewport are rendered, so a long
// history costs what a screenful does) that loads older pages as the user scrolls up, keeps the
// row in view where it was when rows come in above it, follows new messages while the user is at
// the bottom, and offers a jump to the latest otherwise.

import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { pendingIn } from '../state/outbox';
import { emptyChannel } from '../state/timeline';
import { useAppState, useClient } from './context';
import { Icon } from './icons';
import { MessageRow } from './MessageRow';
import { buildRows, Row } from './rows';
import { Anchor, anchoredScrollTop, layout, rowAt, visibleRange } from './virtual';

/** Rendered beyond the viewport, above and below, in pixels. */
const overscan = 900;
/** How close to the top starts loading the previous page. */
const loadOlderWithin = 800;
/** How close to the bottom counts as "at the latest". */
const bottomSlack = 48;

function estimate(row: Row): number {
  switch (row.kind) {
    case 'start':
      return 96;
    case 'loading':
      return 40;
    case 'day':
      return 40;
    case 'marker':
      return 28;
    case 'message':
    case 'pending': {
      const file = row.kind === 'message' ? row.message.file : row.item.file;
      const base = row.grouped ? 26 : 50;
      return base + (file ? (file.mimeType.startsWith('image/') ? 260 : 52) : 0);
    }
  }
}

function isAnchorable(row: Row): boolean {
  return row.kind === 'message' || row.kind === 'pending' || row.kind === 'marker';
}

export interface MessageListProps {
  roomId: string;
  editingId: string | null;
  onEdit: (messageId: string | null) => void;
}

export function MessageList({ roomId, editingId, onEdit }: MessageListProps) {
  const client = useClient();
  const channel = useAppState((state) => state.channels[roomId]) ?? emptyChannel;
  const outbox = useAppState((state) => state.outbox);
  const selfId = useAppState((state) => state.session.user?.id ?? null);
  const canModerate = useAppState((state) => (selfId ? state.members[roomId]?.[selfId]?.role === 'admin' : false));
  const pending = useMemo(() => pendingIn(outbox, roomId), [outbox, roomId]);
  const loading = channel.loadingOlder || !channel.loaded;
  const atStart = channel.loaded && !channel.hasOlder;
  const rows = useMemo(() => {
    const top: Row[] = [];
    if (atStart) top.push({ kind: 'start', key: 'start' });
    if (loading) top.push({ kind: 'loading', key: 'loading' });
    return [...top, ...buildRows(channel.messages, pending, channel.markerSeq, selfId)];
  }, [atStart, loading, channel.messages, pending, channel.markerSeq, selfId]);

  const scroller = useRef<HTMLDivElement>(null);
  const heights = useRef(new Map<string, number>());
  const [measured, setMeasured] = useState(0);
  const [viewport, setViewport] = useState({ top: 0, height: 800 });
  const [atBottom, setAtBottom] = useState(true);
  /** Follow new messages (the user is at the bottom). */
  const stick = useRef(true);
  const anchor = useRef<Anchor | null>(null);
  const placedMarker = useRef(false);

  const keys = useMemo(() => rows.map((row) => row.key), [rows]);
  // `measured` changes whenever a row's measured height does.
  const rowHeights = useMemo(() => rows.map((row) => heights.current.get(row.key) ?? estimate(row)), [rows, measured]);
  const sizes = useMemo(() => layout(rowHeights), [rowHeights]);
  const range = visibleRange(sizes, rowHeights, viewport.top, viewport.height, overscan);

  // Measures rendered rows; a changed height re-lays the list out (and the anchor holds the view).
  const observer = useMemo(
    () =>
      new ResizeObserver((entries) => {
        let changed = false;
        for (const entry of entries) {
          const element = entry.target as HTMLElement;
          const key = element.dataset.key;
          if (!key) continue;
          const height = entry.borderBoxSize?.[0]?.blockSize ?? element.getBoundingClientRect().height;
          if (Math.abs((heights.current.get(key) ?? -1) - height) >= 0.5) {
            heights.current.set(key, height);
            changed = true;
          }
        }
        if (changed) setMeasured((count) => count + 1);
      }),
    [],
  );
  useEffect(() => () => observer.disconnect(), [observer]);

  // Opening a room with unread messages far above the bottom: start at the new-messages line.
  useLayoutEffect(() => {
    if (placedMarker.current || !channel.loaded) return;
    placedMarker.current = true;
    const index = keys.indexOf('marker');
    const element = scroller.current;
    if (index < 0 || !element) return;
    if (sizes.total - sizes.offsets[index]! > element.clientHeight) {
      stick.current = false;
      anchor.current = { key: 'marker', delta: 96 };
    }
  }, [channel.loaded, keys, sizes]);

  // After every render: at the bottom, stay there; otherwise keep the anchored row in place.
  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element) return;
    if (stick.current) {
      const bottom = element.scrollHeight - element.clientHeight;
      if (Math.abs(element.scrollTop - bottom) > 1) element.scrollTop = bottom;
    } else if (anchor.current) {
      const top = anchoredScrollTop(sizes, keys, anchor.current);
      if (top !== null && Math.abs(element.scrollTop - top) > 1) element.scrollTop = top;
    }
  });

  // Window resizes change the viewport.
  useEffect(() => {
    const element = scroller.current;
    if (!element) return;
    const resize = new ResizeObserver(() => setViewport({ top: element.scrollTop, height: element.clientHeight }));
    resize.observe(element);
    return () => resize.disconnect();
  }, []);

  const onScroll = () => {
    const element = scroller.current;
    if (!element) return;
    const bottom = element.scrollHeight - element.scrollTop - element.clientHeight < bottomSlack;
    stick.current = bottom;
    // The anchor is a message, never a separator or the loading line: those move when older rows come in.
    let index = rowAt(sizes, rowHeights, element.scrollTop);
    while (index < rows.length - 1 && !isAnchorable(rows[index]!)) index += 1;
    const key = keys[index];
    anchor.current = key === undefined ? null : { key, delta: sizes.offsets[index]! - element.scrollTop };
    setViewport({ top: element.scrollTop, height: element.clientHeight });
    if (bottom !== atBottom) setAtBottom(bottom);
    client.rooms.setReading(roomId, bottom);
    if (element.scrollTop < loadOlderWithin && channel.hasOlder && !channel.loadingOlder && channel.loaded) void client.rooms.loadOlder(roomId);
  };

  // The room is on screen: say whether its newest messages are seen.
  useEffect(() => {
    client.rooms.setReading(roomId, stick.current);
  }, [client, roomId, channel.messages.length]);

  // A short history that does not fill the screen: load more without waiting for a scroll.
  useEffect(() => {
    const element = scroller.current;
    if (element && channel.loaded && channel.hasOlder && !channel.loadingOlder && element.scrollHeight <= element.clientHeight + loadOlderWithin) {
      void client.rooms.loadOlder(roomId);
    }
  }, [client, roomId, channel.loaded, channel.hasOlder, channel.loadingOlder, sizes.total]);

  // The message being edited is brought into view.
  useEffect(() => {
    if (!editingId) return;
    const index = keys.indexOf(editingId);
    const element = scroller.current;
    if (index < 0 || !element) return;
    const top = sizes.offsets[index]!;
    if (top < element.scrollTop || top + rowHeights[index]! > element.scrollTop + element.clientHeight) {
      stick.current = false;
      element.scrollTop = Math.max(0, top - element.clientHeight / 3);
    }
  }, [editingId]);

  const jumpToLatest = useCallback(() => {
    const element = scroller.current;
    if (!element) return;
    stick.current = true;
    element.scrollTop = element.scrollHeight;
    element.focus({ preventScroll: true });
  }, []);

  const before = sizes.offsets[range.start] ?? 0;
  const lastIndex = range.end - 1;
  const after = lastIndex >= 0 ? sizes.total - (sizes.offsets[lastIndex]! + rowHeights[lastIndex]!) : 0;
  const visible = rows.slice(range.start, range.end);

  return (
    <div className="message-pane">
      <div
        ref={scroller}
        className="message-scroller"
        role="log"
        aria-live="polite"
        aria-label="Messages"
        aria-busy={loading}
        tabIndex={0}
        onScroll={onScroll}
      >
        <div className="spacer" style={{ height: before }} />
        {visible.map((row) => (
          <Measured key={row.key} rowKey={row.key} observer={observer}>
            <MessageRow
              row={row}
              selfId={selfId}
              canModerate={canModerate}
              editing={row.kind === 'message' && row.message.id === editingId}
              onEdit={onEdit}
            />
          </Measured>
        ))}
        <div className="spacer" style={{ height: after }} />
      </div>
      {!atBottom && (
        <button type="button" className="jump-latest" onClick={jumpToLatest}>
          <Icon name="down" />
          Jump to latest
          {channel.unread > 0 && <span className="unread-badge">{channel.unread}</span>}
        </button>
      )}
    </div>
  );
}

function Measured({ rowKey, observer, children }: { rowKey: string; observer: ResizeObserver; children: React.ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const element = ref.current;
    if (!element) return;
    observer.observe(element);
    return () => observer.unobserve(element);
  }, [observer]);
  return (
    <div ref={ref} className="row" data-key={rowKey}>
      {children}
    </div>
  );
}

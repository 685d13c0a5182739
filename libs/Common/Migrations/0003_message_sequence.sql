-- Per-room message sequence numbers: strictly increasing with no gaps, assigned in the transaction
-- that stores the message (rooms.last_message_seq is the counter, under the room's row lock).
ALTER TABLE rooms ADD COLUMN last_message_seq BIGINT NOT NULL DEFAULT 0;

ALTER TABLE messages ADD COLUMN seq BIGINT;
ALTER TABLE messages ADD COLUMN edited_at TIMESTAMPTZ;
ALTER TABLE messages ADD COLUMN deleted_at TIMESTAMPTZ;

-- Number any messages stored before this migration, oldest first.
UPDATE messages m SET seq = numbered.seq
FROM (SELECT id, row_number() OVER (PARTITION BY room_id ORDER BY created_at, id) AS seq FROM messages) numbered
WHERE m.id = numbered.id;
UPDATE rooms r SET last_message_seq = COALESCE((SELECT max(seq) FROM messages WHERE room_id = r.id), 0);

ALTER TABLE messages ALTER COLUMN seq SET NOT NULL;
CREATE UNIQUE INDEX idx_messages_room_seq ON messages (room_id, seq);

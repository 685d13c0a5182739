-- Old messages move here (the jobs service's archive job), out of the hot table. Same columns as
-- messages, plus when the row was archived; no foreign keys, so archiving never blocks on a room.
CREATE TABLE messages_archive (LIKE messages INCLUDING DEFAULTS);
ALTER TABLE messages_archive ADD COLUMN archived_at TIMESTAMPTZ NOT NULL DEFAULT now();
ALTER TABLE messages_archive ADD PRIMARY KEY (id);
CREATE INDEX idx_messages_archive_room_seq ON messages_archive (room_id, seq);

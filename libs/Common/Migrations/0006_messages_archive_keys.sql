-- Archived messages belong to their room and author like live ones: deleting a room deletes its
-- archived messages too, and a deleted user's archived messages lose their author. The foreign
-- keys take only a KEY SHARE lock on the room row, which no room update (sequence numbers,
-- activity) conflicts with, so archiving still never waits on a busy room.
DELETE FROM messages_archive a WHERE NOT EXISTS (SELECT 1 FROM rooms r WHERE r.id = a.room_id);
UPDATE messages_archive a SET user_id = NULL
WHERE user_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = a.user_id);

ALTER TABLE messages_archive
  ADD CONSTRAINT messages_archive_room_id_fkey FOREIGN KEY (room_id) REFERENCES rooms(id) ON DELETE CASCADE;
ALTER TABLE messages_archive
  ADD CONSTRAINT messages_archive_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE SET NULL;
CREATE INDEX idx_messages_archive_user_id ON messages_archive (user_id);
-- LIKE copied the columns and defaults but not the checks: archived messages are edited under
-- the same rules as live ones.
ALTER TABLE messages_archive ADD CONSTRAINT messages_archive_content_check CHECK (char_length(content) <= 4000);
ALTER TABLE messages_archive
  ADD CONSTRAINT messages_archive_type_check CHECK (type IN ('text', 'file', 'system', 'voice_note'));

-- Every message, live or archived: history, lookups and replays read through this view, so a
-- room's history does not end where the archive begins. Predicates and ORDER BY seq ... LIMIT
-- reach both tables' (room_id, seq) indexes through the UNION ALL.
CREATE VIEW messages_all AS
  SELECT id, room_id, user_id, content, type, file_id, created_at, updated_at, seq, edited_at, deleted_at, false AS archived
  FROM messages
  UNION ALL
  SELECT id, room_id, user_id, content, type, file_id, created_at, updated_at, seq, edited_at, deleted_at, true AS archived
  FROM messages_archive;

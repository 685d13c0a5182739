-- Each room's number of messages that are not deleted (live and archived alike): the `total` of a
-- history page. The messages service keeps it in the statements that store a message (+1) and
-- delete one (-1), so reading it costs one row instead of a count over the room's whole history.
-- Archiving moves messages without changing it; deleting the room deletes the row with it.
ALTER TABLE rooms ADD COLUMN message_count BIGINT NOT NULL DEFAULT 0;

UPDATE rooms r SET message_count = counted.n
FROM (SELECT room_id, count(*) AS n FROM messages_all WHERE deleted_at IS NULL GROUP BY room_id) counted
WHERE r.id = counted.room_id;

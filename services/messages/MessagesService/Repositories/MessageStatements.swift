import Foundation
import PostgresNIO

/// The hot statements of the messages service, prepared once per connection by PostgresNIO and
/// then executed by name: the server parses and plans each of them once, not on every request.
enum MessageStatements {
    /// The columns of one message as ``MessageRow`` reads them, from `m` (a message row), `u`
    /// (its author, left-joined) and `f` (its file, left-joined).
    static let columns = """
        m.id, m.room_id, m.seq, m.content, m.type, m.created_at, m.edited_at, m.deleted_at,
        u.id, u.username, u.avatar_url, f.id, f.name, f.size, f.mime_type, f.url
        """
    /// The author and file of `m`.
    static let joins = "LEFT JOIN users u ON u.id = m.user_id LEFT JOIN file_metadata f ON f.id = m.file_id"

    /// Stores a message in one statement: takes the room's next sequence number, counts the message,
    /// wakes the room (activity, `is_active`), inserts the message and returns it with its author
    /// and file. The room's row lock is held from the `UPDATE` to the commit of this one statement.
    ///
    /// The room's `last_activity` moves only when it is more than ``activityResolution`` old: it
    /// is indexed, and an update that leaves every indexed column as it was is a heap-only (HOT)
    /// update, which writes no index entry. A busy room's activity is thus known to within that
    /// resolution, which is all that sorting rooms by activity and closing idle ones need.
    ///
    /// It stores nothing (and returns no row) unless the author is a member of the room at the time
    /// of the statement; a closed room (inactive, no members) has no members, so it refuses too.
    struct Create: PostgresPreparedStatement {
        static let name = "vf_messages_create"
        /// How stale a room's `last_activity` may be before a new message moves it.
        static let activityResolution = "5 seconds"
        static let sql = """
            WITH room AS (
              UPDATE rooms SET last_message_seq = last_message_seq + 1, message_count = message_count + 1,
                last_activity = CASE WHEN last_activity < now() - interval '\(activityResolution)' THEN now() ELSE last_activity END,
                is_active = true
              WHERE id = $1 AND EXISTS (SELECT 1 FROM room_users WHERE room_id = $1 AND user_id = $2)
              RETURNING id, last_message_seq
            ), m AS (
              INSERT INTO messages (room_id, user_id, content, type, file_id, seq)
              SELECT room.id, $2, $3, $4, $5, room.last_message_seq FROM room
              RETURNING *
            )
            SELECT \(MessageStatements.columns) FROM m \(MessageStatements.joins)
            """
        typealias Row = MessageRow

        var room: UUID
        var author: UUID
        var content: String
        var type: String
        var file: UUID?

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 5)
            bindings.append(room)
            bindings.append(author)
            bindings.append(content)
            bindings.append(type)
            bindings.append(file)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> MessageRow { try MessageRow(row) }
    }

    /// The room's state (active, closed, recording) and the user's role in it; no row when the
    /// room does not exist.
    ///
    /// A room records messages unless its settings say `"recordMessages": false`.
    struct Access: PostgresPreparedStatement {
        static let name = "vf_messages_access"
        static let sql = """
            SELECT r.is_active, NOT r.is_active AND NOT EXISTS (SELECT 1 FROM room_users WHERE room_id = r.id),
              r.settings -> 'recordMessages' IS DISTINCT FROM 'false'::jsonb, ru.role
            FROM rooms r LEFT JOIN room_users ru ON ru.room_id = r.id AND ru.user_id = $2
            WHERE r.id = $1
            """
        typealias Row = (Bool, Bool, Bool, String?)

        var room: UUID
        var user: UUID

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 2)
            bindings.append(room)
            bindings.append(user)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// One message, live or archived, by id.
    struct Find: PostgresPreparedStatement {
        static let name = "vf_messages_find"
        static let sql = "SELECT \(MessageStatements.columns) FROM messages_all m \(MessageStatements.joins) WHERE m.id = $1"
        typealias Row = MessageRow

        var id: UUID

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 1)
            bindings.append(id)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> MessageRow { try MessageRow(row) }
    }

    /// A page newest first, with the room's message count, in one statement: messages with
    /// `seq < before` and `seq <= last_message_seq - skip`, at most `limit`.
    ///
    /// `skip` serves the guide's page numbers without an `OFFSET`: sequence numbers have no gaps
    /// (deleted messages stay as tombstones, archived ones stay in `messages_all`), so the
    /// `skip`-th newest message has `seq = last_message_seq - skip`, and the page is read from the
    /// `(room_id, seq)` indexes however deep it is. The first row always comes, with the count;
    /// its message columns are NULL when the page is empty.
    struct NewestFirst: PostgresPreparedStatement {
        static let name = "vf_messages_newest_first"
        static let sql = """
            SELECT r.message_count, \(MessageStatements.columns)
            FROM rooms r
            LEFT JOIN LATERAL (
              SELECT * FROM messages_all x
              WHERE x.room_id = r.id AND x.seq < LEAST($2, r.last_message_seq + 1 - $3)
              ORDER BY x.seq DESC LIMIT $4
            ) m ON true
            \(MessageStatements.joins)
            WHERE r.id = $1
            ORDER BY m.seq DESC
            """
        typealias Row = HistoryRow

        var room: UUID
        var before: Int
        var skip: Int
        var limit: Int

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 4)
            bindings.append(room)
            bindings.append(before)
            bindings.append(skip)
            bindings.append(limit)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> HistoryRow { try HistoryRow(row) }
    }

    /// A page oldest first (catching up): messages with `seq > after`, at most `limit`, with the
    /// room's message count, as ``NewestFirst`` returns it.
    struct OldestFirst: PostgresPreparedStatement {
        static let name = "vf_messages_oldest_first"
        static let sql = """
            SELECT r.message_count, \(MessageStatements.columns)
            FROM rooms r
            LEFT JOIN LATERAL (
              SELECT * FROM messages_all x WHERE x.room_id = r.id AND x.seq > $2 ORDER BY x.seq ASC LIMIT $3
            ) m ON true
            \(MessageStatements.joins)
            WHERE r.id = $1
            ORDER BY m.seq ASC
            """
        typealias Row = HistoryRow

        var room: UUID
        var after: Int
        var limit: Int

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 3)
            bindings.append(room)
            bindings.append(after)
            bindings.append(limit)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> HistoryRow { try HistoryRow(row) }
    }
}

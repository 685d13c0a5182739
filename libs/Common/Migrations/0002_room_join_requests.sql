-- Join codes are looked up case-insensitively; they are stored upper-case.
CREATE UNIQUE INDEX idx_rooms_code_upper ON rooms (upper(code));

-- Public room listing: active public rooms by recent activity.
CREATE INDEX idx_rooms_public_activity ON rooms (last_activity DESC) WHERE is_active AND (settings->>'isPublic')::boolean;

-- Members of a room in seniority order (admin succession).
CREATE INDEX idx_room_users_room_joined ON room_users (room_id, joined_at, id);

-- Requests to join rooms that require approval.
CREATE TABLE room_join_requests (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  room_id UUID NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
  user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  status VARCHAR(20) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  decided_by UUID REFERENCES users(id) ON DELETE SET NULL,
  decided_at TIMESTAMPTZ
);

CREATE UNIQUE INDEX idx_room_join_requests_pending ON room_join_requests (room_id, user_id) WHERE status = 'pending';
CREATE INDEX idx_room_join_requests_room ON room_join_requests (room_id, status, created_at);

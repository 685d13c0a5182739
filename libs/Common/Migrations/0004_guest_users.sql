-- Guest accounts: made by POST /api/v1/auth/guest with a display name only. They have no usable
-- password ('!' never matches a bcrypt hash) and their tokens carry kind=guest.
ALTER TABLE users ADD COLUMN is_guest BOOLEAN NOT NULL DEFAULT false;

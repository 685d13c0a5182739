-- A requested change of e-mail address, waiting for its confirmation through the new address: one
-- per user (a new request replaces it), holding only the SHA-256 of the token the e-mail carries.
-- The change applies when the token comes back before `expires_at` and the address is still free;
-- confirming deletes the row, so a token works once.
CREATE TABLE email_changes (
    user_id    UUID PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    new_email  VARCHAR(255) NOT NULL,
    token_hash BYTEA NOT NULL UNIQUE,
    expires_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

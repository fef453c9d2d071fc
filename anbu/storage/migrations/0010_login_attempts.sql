-- Failed and successful logins, to slow down password guessing (see dashboard/api.py login):
-- after too many failures for one username in a window, logins for it are refused for a while.
CREATE TABLE login_attempts (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL,
    username    text NOT NULL,
    ip          text NOT NULL DEFAULT '',
    ok          boolean NOT NULL
);
CREATE INDEX login_attempts_username ON login_attempts (username, at DESC);

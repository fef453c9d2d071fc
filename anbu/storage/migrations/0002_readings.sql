-- Readings, and what could not be read.

CREATE TABLE readings (
    time            timestamptz NOT NULL,       -- device time (or receive time if its clock was off)
    household_id    text NOT NULL,
    device_id       text NOT NULL,
    kind            text NOT NULL,
    seq             bigint,
    value           double precision,
    data            jsonb NOT NULL DEFAULT '{}',
    flags           smallint NOT NULL DEFAULT 0, -- 1 clock corrected, 2 late
    stored_at       timestamptz NOT NULL DEFAULT now()  -- the storing transaction's time
);
-- One index serves both duplicate suppression (same device, seq and time is one reading) and
-- the common query "this household between t0 and t1". NULL seq (a last-will) never conflicts.
CREATE UNIQUE INDEX readings_household_time ON readings (household_id, time, device_id, seq);

CREATE TABLE dead_letters (
    id              bigserial PRIMARY KEY,
    received_at     timestamptz NOT NULL,
    topic           text NOT NULL,
    payload         bytea NOT NULL,             -- raw bytes, truncated to the payload limit
    size            integer NOT NULL,           -- the original size in bytes
    reason          text NOT NULL,
    detail          text NOT NULL DEFAULT ''
);
CREATE INDEX dead_letters_received ON dead_letters (received_at);
CREATE INDEX dead_letters_reason ON dead_letters (reason, received_at);

-- Alerts, their audit trail, away windows, staff channels and the transactional outbox.

CREATE TABLE alerts (
    id                    bigserial PRIMARY KEY,
    household_id          text NOT NULL REFERENCES households(id),
    kind                  text NOT NULL,
    severity              text NOT NULL CHECK (severity IN ('caution', 'alarm', 'danger')),
    state                 text NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
    opened_at             timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    explanation           text NOT NULL DEFAULT '',
    evidence              jsonb NOT NULL DEFAULT '{}',
    acknowledged_at       timestamptz,
    acknowledged_by       text,
    resolved_at           timestamptz,
    resolved_by           text,
    outcome               text CHECK (outcome IN ('resident_fine', 'resident_helped', 'hospitalised',
                              'found_deceased', 'false_alarm_sensor', 'false_alarm_away', 'other',
                              'auto_resolved', 'resident_answered')),
    escalation_step       integer NOT NULL DEFAULT 0,
    escalation_severity   text,
    escalation_started_at timestamptz,
    last_notified_at      timestamptz,
    -- recorded but not notified (away mode, planned visit, maintenance); SOS is never suppressed
    suppressed_by         text
);
-- an alert's identity: one active alert per household and kind
CREATE UNIQUE INDEX alerts_identity ON alerts (household_id, kind) WHERE state <> 'resolved';
CREATE INDEX alerts_active ON alerts (state, severity, opened_at) WHERE state <> 'resolved';
CREATE INDEX alerts_household ON alerts (household_id, opened_at DESC);

-- Audit rows can be added, never changed or removed: not through the API, not by a bug.
CREATE FUNCTION anbu_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit table % is append-only', TG_TABLE_NAME;
END $$;

CREATE TABLE alert_events (
    id          bigserial PRIMARY KEY,
    alert_id    bigint NOT NULL REFERENCES alerts(id),
    at          timestamptz NOT NULL,
    actor       text NOT NULL,                 -- a staff id, or 'system'
    action      text NOT NULL,
    from_state  text,
    to_state    text NOT NULL,
    severity    text NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX alert_events_alert ON alert_events (alert_id, id);
CREATE TRIGGER alert_events_append_only BEFORE UPDATE OR DELETE ON alert_events
    FOR EACH ROW EXECUTE FUNCTION anbu_append_only();

-- Away mode (hospital stay, travel), planned visits and device maintenance, set by staff.
CREATE TABLE suppressions (
    id            bigserial PRIMARY KEY,
    household_id  text NOT NULL REFERENCES households(id),
    reason        text NOT NULL CHECK (reason IN ('away', 'hospital', 'visit', 'maintenance')),
    starts_at     timestamptz NOT NULL,
    ends_at       timestamptz,                 -- NULL: until ended by staff
    note          text NOT NULL DEFAULT '',
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    ended_by      text,
    CHECK (ends_at IS NULL OR ends_at > starts_at)
);
CREATE INDEX suppressions_household ON suppressions (household_id, starts_at);

-- How each staff member (and the monitoring centre) is reached.
CREATE TABLE staff_channels (
    id          bigserial PRIMARY KEY,
    staff_id    text NOT NULL,                 -- a staff id, or 'centre'
    channel     text NOT NULL CHECK (channel IN ('webhook', 'email', 'mqtt')),
    address     text NOT NULL,                 -- URL, e-mail address or MQTT topic
    enabled     boolean NOT NULL DEFAULT true,
    UNIQUE (staff_id, channel, address)
);

-- The transactional outbox: written in the same transaction as the alert change.
CREATE TABLE outbox (
    id               bigserial PRIMARY KEY,
    alert_id         bigint NOT NULL REFERENCES alerts(id),
    channel          text NOT NULL CHECK (channel IN ('webhook', 'email', 'mqtt', 'device')),
    recipient        text NOT NULL,            -- staff id, 'centre' or 'resident'
    address          text NOT NULL,
    payload          jsonb NOT NULL,
    idempotency_key  text NOT NULL UNIQUE,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    last_error       text,
    created_at       timestamptz NOT NULL,
    sent_at          timestamptz
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_alert ON outbox (alert_id);

CREATE TABLE delivery_attempts (
    id          bigserial PRIMARY KEY,
    outbox_id   bigint NOT NULL REFERENCES outbox(id),
    at          timestamptz NOT NULL,
    ok          boolean NOT NULL,
    error       text,
    duration_ms real NOT NULL
);
CREATE INDEX delivery_attempts_outbox ON delivery_attempts (outbox_id);
CREATE TRIGGER delivery_attempts_append_only BEFORE UPDATE OR DELETE ON delivery_attempts
    FOR EACH ROW EXECUTE FUNCTION anbu_append_only();

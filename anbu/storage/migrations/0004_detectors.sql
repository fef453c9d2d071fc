-- Detector state (restart-safe evaluation) and the findings the detectors raised.
-- See detectors/engine.py and anbu/storage/detectors.py.

-- One row per watched household: the packed numpy rows of the engine's state (learned rhythm,
-- thresholds, the inactivity score and its reference time, home/away, devices). Evaluation
-- restarts from here: an alert that came due while anbu was down fires at start-up.
CREATE TABLE detector_state (
    household_id    text PRIMARY KEY REFERENCES households(id) ON DELETE CASCADE,
    timezone        text NOT NULL,
    -- summary columns for queries and the dashboard; the packed state is authoritative
    last_sign_at    timestamptz,
    last_heard_at   timestamptz,
    state           text NOT NULL DEFAULT 'unknown'
                        CHECK (state IN ('home', 'asleep', 'away', 'unknown')),
    -- layout of the packed rows (detectors.engine.Engine.state_format()); rows of another
    -- layout are ignored on load (the household learns again) rather than misread
    format          bigint NOT NULL,
    profile         bytea NOT NULL,
    device_ids      text[] NOT NULL DEFAULT '{}',
    device_kinds    text[] NOT NULL DEFAULT '{}',
    devices         bytea NOT NULL DEFAULT ''::bytea,
    saved_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (cardinality(device_ids) = cardinality(device_kinds))
);

-- When the engine last saved; at start-up it replays readings stored since.
CREATE TABLE detector_checkpoint (
    id              boolean PRIMARY KEY DEFAULT true CHECK (id),
    saved_at        timestamptz NOT NULL,
    evaluated_at    timestamptz
);

CREATE TABLE findings (
    id              bigserial PRIMARY KEY,
    household_id    text NOT NULL REFERENCES households(id) ON DELETE CASCADE,
    kind            text NOT NULL CHECK (kind IN (
                        'inactivity', 'overdue_return', 'isolation', 'wandering', 'vitals',
                        'sos', 'heat', 'cold', 'power_anomaly', 'device.offline',
                        'device.gateway_offline', 'device.low_battery', 'device.stuck',
                        'device.silent')),
    severity        text NOT NULL CHECK (severity IN ('caution', 'alarm', 'danger')),
    at              timestamptz NOT NULL,
    device_id       text,
    explanation     text NOT NULL,              -- English
    explanation_ko  text NOT NULL,
    message_key     text NOT NULL,              -- detectors.findings.CATALOG
    message_params  jsonb NOT NULL DEFAULT '{}',
    evidence        jsonb NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX findings_household_at ON findings (household_id, at DESC);
CREATE INDEX findings_at ON findings (at);

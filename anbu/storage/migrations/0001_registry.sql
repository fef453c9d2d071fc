-- Who is watched and who watches: districts, households, staff, assignments, devices.

CREATE TABLE districts (
    id          text PRIMARY KEY,              -- e.g. '11200' (성동구) or a local code
    name_ko     text NOT NULL,
    name_en     text NOT NULL DEFAULT ''
);

CREATE TABLE households (
    id                  text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
    district_id         text NOT NULL REFERENCES districts(id),
    dong                text NOT NULL DEFAULT '',          -- 행정동
    display_name        text NOT NULL,                     -- what staff see, e.g. '김○○'
    address             text NOT NULL DEFAULT '',
    phone               text NOT NULL DEFAULT '',
    birth_year          smallint,
    risk_level          text NOT NULL DEFAULT 'medium' CHECK (risk_level IN ('low', 'medium', 'high')),
    -- consent under PIPA: monitoring itself, sharing with emergency services, and when given
    consent_monitoring  boolean NOT NULL DEFAULT false,
    consent_emergency_share boolean NOT NULL DEFAULT false,
    consent_recorded_at timestamptz,
    -- which detector thresholds and escalation policy apply ('standard', 'high_risk', ...)
    monitoring_profile  text NOT NULL DEFAULT 'standard',
    timezone            text NOT NULL DEFAULT 'Asia/Seoul',
    active              boolean NOT NULL DEFAULT true,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX households_district ON households (district_id, dong);

CREATE TABLE staff (
    id              text PRIMARY KEY,
    username        text NOT NULL UNIQUE,
    display_name    text NOT NULL,
    role            text NOT NULL CHECK (role IN ('admin', 'monitoring', 'team_lead', 'planner', 'field_worker')),
    district_id     text REFERENCES districts(id),     -- the scope of monitoring staff and team leads
    phone           text NOT NULL DEFAULT '',
    email           text NOT NULL DEFAULT '',
    password_hash   text,                              -- argon2; NULL: cannot log in
    locale          text NOT NULL DEFAULT 'ko' CHECK (locale IN ('ko', 'en')),
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- Assignment history: the current one has ended_at NULL; one primary and one backup at a time.
CREATE TABLE assignments (
    id              bigserial PRIMARY KEY,
    household_id    text NOT NULL REFERENCES households(id),
    staff_id        text NOT NULL REFERENCES staff(id),
    role            text NOT NULL CHECK (role IN ('primary', 'backup')),
    started_at      timestamptz NOT NULL DEFAULT now(),
    ended_at        timestamptz
);
CREATE UNIQUE INDEX assignments_current ON assignments (household_id, role) WHERE ended_at IS NULL;
CREATE INDEX assignments_staff ON assignments (staff_id) WHERE ended_at IS NULL;

CREATE TABLE devices (
    household_id    text NOT NULL REFERENCES households(id),
    id              text NOT NULL,
    kind            text NOT NULL,                 -- the contract kind it publishes first
    room            text NOT NULL DEFAULT '',
    exterior        boolean NOT NULL DEFAULT false,
    label           text NOT NULL DEFAULT '',
    -- registered by the ingester on first sight; staff confirm it
    provisional     boolean NOT NULL DEFAULT false,
    registered_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (household_id, id)
);

-- The latest status (heartbeat / last will) per device; history stays in readings.
CREATE TABLE device_status (
    household_id    text NOT NULL,
    device_id       text NOT NULL,
    online          boolean NOT NULL,
    battery_pct     real,
    rssi_dbm        real,
    firmware        text,
    role            text,
    status_at       timestamptz NOT NULL,
    PRIMARY KEY (household_id, device_id)
);

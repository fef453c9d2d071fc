-- The weekly slow-decline report in production (detectors/trend_job.py): each household's
-- activity per local day, counted from the stored readings by `detectors.trend.DailyActivity`,
-- and the weekly report over the last 8 whole weeks, one row per household and week.
-- A case-management signal for the planner's review, never an alarm.

CREATE TABLE activity_days (
    household_id    text NOT NULL REFERENCES households(id) ON DELETE CASCADE,
    day             date NOT NULL,                 -- the household's local day
    timezone        text NOT NULL,                 -- the zone the day was cut in
    -- signs of life (deduplicated per device), of which reliable; 0 signs: nothing was heard
    -- that day (a gateway down all day is not an inactive person: the report leaves it out)
    signs           integer NOT NULL CHECK (signs >= 0),
    reliable        integer NOT NULL CHECK (reliable >= 0 AND reliable <= signs),
    active_hours    smallint NOT NULL CHECK (active_hours BETWEEN 0 AND 24),
    exits           integer NOT NULL CHECK (exits >= 0),
    -- per local hour 0..23: reliable signs, noisy signs (what `active_hours` is made of)
    hours_reliable  integer[] NOT NULL CHECK (cardinality(hours_reliable) = 24),
    hours_noisy     integer[] NOT NULL CHECK (cardinality(hours_noisy) = 24),
    computed_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (household_id, day)
);

CREATE TABLE weekly_trends (
    household_id    text NOT NULL REFERENCES households(id) ON DELETE CASCADE,
    -- the Monday of the week of `through`: one row per household and week (history); the
    -- daily run replaces the row of the current week
    week            date NOT NULL,
    through         date NOT NULL,                 -- the last local day of the report
    weeks           jsonb NOT NULL,                -- [{start, days, signs_per_day, ...}]
    active_hours_change double precision,          -- -0.3: 30 % less than the first weeks
    signs_change    double precision,
    active_hours_slope double precision,           -- per week, relative to the first weeks
    signs_slope     double precision,
    declining       boolean NOT NULL,
    reasons         text[] NOT NULL DEFAULT '{}',  -- 'active_hours', 'signs'
    text            text NOT NULL,                 -- detectors.trend.describe (ko — en)
    latest          boolean NOT NULL DEFAULT false, -- the household's newest week
    computed_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (household_id, week),
    CHECK (week <= through AND through < week + 7)
);
-- the board joins the newest report of every household
CREATE UNIQUE INDEX weekly_trends_latest ON weekly_trends (household_id) WHERE latest;

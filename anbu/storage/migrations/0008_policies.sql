-- Escalation policies per district and severity, their append-only change history, and the
-- plan each alert's escalation follows (fixed when it started; see alerts/policy.py).

-- One row per district and severity; district_id NULL is the service-wide default. A severity
-- with no row for the district falls back to the default row, then to the built-in policy.
CREATE TABLE escalation_policies (
    district_id  text REFERENCES districts(id),
    severity     text NOT NULL CHECK (severity IN ('caution', 'alarm', 'danger')),
    plan         jsonb NOT NULL,               -- an alerts.policy.EscalationPlan, validated by anbu
    updated_by   text NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX escalation_policies_district ON escalation_policies (district_id, severity)
    WHERE district_id IS NOT NULL;
CREATE UNIQUE INDEX escalation_policies_default ON escalation_policies (severity)
    WHERE district_id IS NULL;

-- Every change of a policy row, written by the trigger below, so that no change escapes it
-- (not even one made by hand in psql). `actor` is the staff id anbu sets for the transaction
-- (`SET LOCAL anbu.actor`), else the database user. old_plan NULL: there was none (the
-- fallback applied); new_plan NULL: removed (the fallback applies again).
CREATE TABLE escalation_policy_changes (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    actor        text NOT NULL,
    district_id  text,                         -- NULL: the service-wide default
    severity     text NOT NULL,
    old_plan     jsonb,
    new_plan     jsonb
);
CREATE INDEX escalation_policy_changes_district ON escalation_policy_changes (district_id, id);
CREATE TRIGGER escalation_policy_changes_append_only BEFORE UPDATE OR DELETE
    ON escalation_policy_changes FOR EACH ROW EXECUTE FUNCTION anbu_append_only();
-- row triggers do not see TRUNCATE
CREATE TRIGGER escalation_policy_changes_no_truncate BEFORE TRUNCATE
    ON escalation_policy_changes FOR EACH STATEMENT EXECUTE FUNCTION anbu_append_only();

CREATE FUNCTION anbu_policy_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    who text := coalesce(nullif(current_setting('anbu.actor', true), ''), session_user);
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO escalation_policy_changes (actor, district_id, severity, old_plan, new_plan)
        VALUES (who, NEW.district_id, NEW.severity, NULL, NEW.plan);
    ELSIF TG_OP = 'UPDATE' THEN
        IF OLD.district_id IS DISTINCT FROM NEW.district_id OR OLD.severity <> NEW.severity THEN
            RAISE EXCEPTION 'a policy row keeps its district and severity; delete and insert';
        END IF;
        IF OLD.plan IS DISTINCT FROM NEW.plan THEN
            INSERT INTO escalation_policy_changes (actor, district_id, severity, old_plan, new_plan)
            VALUES (who, NEW.district_id, NEW.severity, OLD.plan, NEW.plan);
        END IF;
    ELSE
        INSERT INTO escalation_policy_changes (actor, district_id, severity, old_plan, new_plan)
        VALUES (who, OLD.district_id, OLD.severity, OLD.plan, NULL);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER escalation_policies_history AFTER INSERT OR UPDATE OR DELETE
    ON escalation_policies FOR EACH ROW EXECUTE FUNCTION anbu_policy_changed();

-- The plan an alert's current escalation follows (NULL for alerts from before this version:
-- they follow the built-in policy).
ALTER TABLE alerts ADD COLUMN escalation_policy jsonb;

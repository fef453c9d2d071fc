-- Staff sessions, the access log (who saw whose data), and alerts handed to field workers.

CREATE TABLE sessions (
    token_hash   bytea PRIMARY KEY,            -- sha256 of the cookie's token; the token is not kept
    staff_id     text NOT NULL REFERENCES staff(id),
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    ip           text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_staff ON sessions (staff_id);

-- Every view of a household's data and every alert action, by whom: sensitive personal data.
CREATE TABLE access_log (
    id            bigserial PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    staff_id      text NOT NULL,
    action        text NOT NULL,
    household_id  text,
    alert_id      bigint,
    path          text NOT NULL DEFAULT '',
    ip            text NOT NULL DEFAULT ''
);
CREATE INDEX access_log_household ON access_log (household_id, at);
CREATE INDEX access_log_staff ON access_log (staff_id, at);
CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION anbu_append_only();

-- An alert handed to a field worker (visiting nurse, 명예사회복지공무원): their scope.
CREATE TABLE alert_handoffs (
    alert_id     bigint NOT NULL REFERENCES alerts(id),
    staff_id     text NOT NULL REFERENCES staff(id),
    handed_by    text NOT NULL,
    handed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (alert_id, staff_id)
);
CREATE INDEX alert_handoffs_staff ON alert_handoffs (staff_id);

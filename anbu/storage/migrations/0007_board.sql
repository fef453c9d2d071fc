-- The live board: every change a monitoring screen must show at once is announced on the
-- channel `anbu_board` (LISTEN/NOTIFY, delivered on commit). The payload names the household
-- and what changed; the web application re-checks each listener's scope before passing it on.

CREATE FUNCTION anbu_board_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    payload jsonb;
BEGIN
    IF TG_TABLE_NAME = 'alerts' THEN
        payload := jsonb_build_object(
            'household_id', NEW.household_id,
            'name', (SELECT display_name FROM households WHERE id = NEW.household_id),
            'alert_id', NEW.id,
            'kind', NEW.kind,
            'severity', NEW.severity,
            'state', NEW.state,
            'suppressed', NEW.suppressed_by IS NOT NULL,
            -- a new alert or a higher severity: the board sounds and shows a banner
            'raised', NEW.state = 'open' AND (TG_OP = 'INSERT'
                      OR NEW.severity IS DISTINCT FROM OLD.severity
                      OR OLD.state = 'resolved'));
    ELSIF TG_TABLE_NAME = 'alert_handoffs' THEN
        payload := jsonb_build_object(
            'household_id', (SELECT household_id FROM alerts WHERE id = NEW.alert_id),
            'alert_id', NEW.alert_id, 'handoff', NEW.staff_id);
    ELSE
        payload := jsonb_build_object('household_id', NEW.household_id, 'away', true);
    END IF;
    PERFORM pg_notify('anbu_board', payload::text);
    RETURN NULL;
END $$;

CREATE TRIGGER alerts_board AFTER INSERT OR UPDATE ON alerts
    FOR EACH ROW EXECUTE FUNCTION anbu_board_notify();
CREATE TRIGGER suppressions_board AFTER INSERT OR UPDATE ON suppressions
    FOR EACH ROW EXECUTE FUNCTION anbu_board_notify();
CREATE TRIGGER alert_handoffs_board AFTER INSERT ON alert_handoffs
    FOR EACH ROW EXECUTE FUNCTION anbu_board_notify();

-- the board's "who needs help now" query reads open alerts per household
CREATE INDEX IF NOT EXISTS alerts_open_household ON alerts (household_id) WHERE state <> 'resolved';

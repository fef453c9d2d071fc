-- Permanent delivery failures (see alerts/failures.py): each is an alert event
-- (`delivery_failed`), written in the transaction that marks its outbox row failed, announced on
-- the live board, and escalated.

-- A check-in that could not be delivered ends the resident's time to answer: the staff steps of
-- the escalation count from this time instead of from the end of the check-in timeout. NULL: no
-- check-in of the current escalation failed (a severity rise starts a new escalation: reset).
ALTER TABLE alerts ADD COLUMN check_in_failed_at timestamptz;

-- A failed delivery is recorded (and escalated) once: the row goes from pending to failed in the
-- same transaction, and this index makes a second record of the same outbox row an error.
CREATE UNIQUE INDEX alert_events_delivery_failed
    ON alert_events (((detail ->> 'outbox_id')::bigint)) WHERE action = 'delivery_failed';

-- Open boards refresh on a delivery failure as on any alert change: the payload is the one of
-- an alert update (0007's anbu_board_notify), never `raised`, plus which delivery failed. The
-- error text stays out of it (NOTIFY payloads are limited to 8000 bytes); it is in the event.
CREATE FUNCTION anbu_board_delivery_failed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    payload jsonb;
BEGIN
    SELECT jsonb_build_object(
               'household_id', a.household_id,
               'name', h.display_name,
               'alert_id', a.id,
               'kind', a.kind,
               'severity', a.severity,
               'state', a.state,
               'suppressed', a.suppressed_by IS NOT NULL,
               'raised', false,
               'delivery_failed', jsonb_build_object(
                   'outbox_id', NEW.detail -> 'outbox_id',
                   'channel', NEW.detail -> 'channel',
                   'recipient', NEW.detail -> 'recipient'))
      INTO payload
      FROM alerts a LEFT JOIN households h ON h.id = a.household_id
     WHERE a.id = NEW.alert_id;
    PERFORM pg_notify('anbu_board', payload::text);
    RETURN NULL;
END $$;

CREATE TRIGGER alert_events_delivery_failed_board AFTER INSERT ON alert_events
    FOR EACH ROW WHEN (NEW.action = 'delivery_failed')
    EXECUTE FUNCTION anbu_board_delivery_failed();

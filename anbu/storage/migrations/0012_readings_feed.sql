-- The detector engine's feed: every statement that inserts readings announces its
-- transaction's time on `anbu_readings` when it commits. That time is the rows' `stored_at`,
-- so the engine (anbu/system.py) reads exactly the readings just committed, whichever ingest
-- worker stored them. The BRIN index makes that read, and the replay after a restart
-- (`stored_at` since the checkpoint), cheap: rows are stored in `stored_at` order.

CREATE INDEX IF NOT EXISTS readings_stored_at_brin ON readings USING brin (stored_at)
    WITH (pages_per_range = 16);

CREATE FUNCTION anbu_readings_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- one notification per transaction: PostgreSQL folds identical payloads
    PERFORM pg_notify('anbu_readings', now()::text);
    RETURN NULL;
END $$;

CREATE TRIGGER readings_feed AFTER INSERT ON readings
    FOR EACH STATEMENT EXECUTE FUNCTION anbu_readings_notify();

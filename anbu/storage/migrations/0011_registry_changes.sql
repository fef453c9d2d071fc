-- The ingester remembers which (household, device) pairs are registered, so that a batch of
-- known devices is copied straight into readings (anbu/storage/readings.py, `KnownDevices`).
-- Anything that could make a remembered pair unknown again (a delete, a changed id, a
-- truncate) counts here; the ingester reads the count in each batch's transaction before it
-- trusts what it remembers, and forgets everything when the count has moved.
-- Inserts need not count: an unknown pair always takes the checked path.

CREATE TABLE registry_changes (
    one     boolean PRIMARY KEY DEFAULT true CHECK (one),
    n       bigint NOT NULL
);
INSERT INTO registry_changes VALUES (true, 0);

CREATE FUNCTION anbu_registry_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE registry_changes SET n = n + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER households_registry_changed AFTER UPDATE OF id OR DELETE OR TRUNCATE ON households
    FOR EACH STATEMENT EXECUTE FUNCTION anbu_registry_changed();
CREATE TRIGGER devices_registry_changed
    AFTER UPDATE OF household_id, id OR DELETE OR TRUNCATE ON devices
    FOR EACH STATEMENT EXECUTE FUNCTION anbu_registry_changed();

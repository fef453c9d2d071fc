-- Plain PostgreSQL: a BRIN index on time for range scans and retention deletes, and the hourly
-- activity as an ordinary view with the same name and columns as the TimescaleDB aggregate.

CREATE INDEX readings_time_brin ON readings USING brin (time) WITH (pages_per_range = 32);

CREATE VIEW activity_hourly AS
SELECT household_id,
       date_trunc('hour', time) AS hour,
       count(*) AS readings,
       count(*) FILTER (WHERE kind IN ('motion', 'door', 'contact', 'appliance', 'presence',
                                       'water', 'health', 'button')) AS signs,
       count(*) FILTER (WHERE kind = 'motion' AND value > 0) AS motion,
       avg(value) FILTER (WHERE kind = 'power') AS power_w_avg
FROM readings
GROUP BY household_id, date_trunc('hour', time);

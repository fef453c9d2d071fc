-- TimescaleDB: readings as a hypertable (1-day chunks), compressed after 7 days, dropped after
-- the retention period, and hourly activity as a continuous aggregate.

SELECT create_hypertable('readings', 'time', chunk_time_interval => interval '1 day',
                         migrate_data => true);

ALTER TABLE readings SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'household_id',
    timescaledb.compress_orderby = 'time DESC, device_id, seq'
);
SELECT add_compression_policy('readings', interval '7 days');
SELECT add_retention_policy('readings', interval '400 days');

CREATE MATERIALIZED VIEW activity_hourly
WITH (timescaledb.continuous) AS
SELECT household_id,
       time_bucket(interval '1 hour', time) AS hour,
       count(*) AS readings,
       count(*) FILTER (WHERE kind IN ('motion', 'door', 'contact', 'appliance', 'presence',
                                       'water', 'health', 'button')) AS signs,
       count(*) FILTER (WHERE kind = 'motion' AND value > 0) AS motion,
       avg(value) FILTER (WHERE kind = 'power') AS power_w_avg
FROM readings
GROUP BY household_id, time_bucket(interval '1 hour', time)
WITH NO DATA;

SELECT add_continuous_aggregate_policy('activity_hourly',
    start_offset => interval '3 days', end_offset => interval '1 hour',
    schedule_interval => interval '15 minutes');

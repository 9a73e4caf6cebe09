-- Peer pattern for Flink MATCH_RECOGNIZE, equivalent to
-- benches/peers/seq2.pattern: every Trade A, then the first later Trade B of
-- the same symbol priced 0.2% above it (the reluctant X*? skips the rows in
-- between; AFTER MATCH SKIP TO NEXT ROW lets every row start a match), within
-- 10 s of event time. Flink's WITHIN is exclusive (a partial match times out
-- when ts - start >= window) while dalal's and Siddhi's are inclusive, so the
-- window is 10.001 s: with millisecond timestamps, < 10.001 s is <= 10 s.
-- The stream is the whole CSV of `dalal gen`; rows that are not trades are
-- filtered out before the pattern.
CREATE TABLE events (
  `type` STRING, ts STRING, symbol STRING, price DOUBLE, volume BIGINT,
  side STRING, size BIGINT, headline STRING, change_pct DOUBLE, order_id STRING,
  customer STRING, category STRING, city STRING, amount DOUBLE, items BIGINT,
  payment STRING,
  -- The header line reads as a row of NULLs (csv.ignore-parse-errors): give it
  -- the epoch as its time so the watermark can be assigned; it is not a trade.
  rt AS COALESCE(TO_TIMESTAMP(REPLACE(REPLACE(ts, 'T', ' '), 'Z', '')),
                 TIMESTAMP '1970-01-01 00:00:00'),
  -- A row whose time equals the watermark is late for MATCH_RECOGNIZE and
  -- dropped; the file is in time order, so 1 ms behind the newest row is
  -- never late, also for rows with equal timestamps.
  WATERMARK FOR rt AS rt - INTERVAL '0.001' SECOND
) WITH (
  'connector' = 'filesystem',
  'path' = '${CSV}',
  'format' = 'csv',
  'csv.ignore-parse-errors' = 'true'
)
;
CREATE TEMPORARY VIEW trades AS
  SELECT symbol, price, volume, rt FROM events WHERE `type` = 'Trade'
;
SELECT * FROM trades
  MATCH_RECOGNIZE (
    PARTITION BY symbol
    ORDER BY rt
    MEASURES A.rt AS a_ts, A.price AS price_a, B.price AS price_b
    ONE ROW PER MATCH
    AFTER MATCH SKIP TO NEXT ROW
    PATTERN (A X*? B) WITHIN INTERVAL '10.001' SECOND
    DEFINE B AS B.price > A.price * 1.002
  )

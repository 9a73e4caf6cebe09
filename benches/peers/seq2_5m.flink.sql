-- Peer pattern for Flink MATCH_RECOGNIZE, equivalent to
-- benches/peers/seq2_5m.pattern: every Trade A, then the first later Trade B of
-- the same symbol priced 0.2% above it (the reluctant X*? skips the rows in
-- between; AFTER MATCH SKIP TO NEXT ROW lets every row start a match), within
-- 5 minutes of event time. Flink's WITHIN is exclusive (a partial match times out
-- when ts - start >= window) while dalal's and Siddhi's are inclusive, so the
-- window is 300.001 s: with millisecond timestamps, < 300.001 s is <= 300 s.
-- The stream is the whole CSV of `dalal gen`; rows that are not trades are
-- filtered out before the pattern.
-- Every column is read as text and the trade's numbers are cast in the view:
-- typed columns made each empty field of the other event types a parse error
-- (caught and skipped, but thrown per field).
CREATE TABLE events (
  `type` STRING, ts STRING, symbol STRING, price STRING, volume STRING,
  side STRING, size STRING, headline STRING, change_pct STRING, order_id STRING,
  customer STRING, category STRING, city STRING, amount STRING, items STRING,
  payment STRING,
  -- The header line's ts is not a time: give it the epoch so the watermark
  -- can be assigned (it is not a trade, the view drops it).
  rt AS COALESCE(TO_TIMESTAMP(REPLACE(REPLACE(ts, 'T', ' '), 'Z', '')),
                 TIMESTAMP '1970-01-01 00:00:00'),
  -- A row whose time equals the watermark is late for MATCH_RECOGNIZE and
  -- dropped; the file is in time order, so 1 ms behind the newest row is
  -- never late, also for rows with equal timestamps.
  WATERMARK FOR rt AS rt - INTERVAL '0.001' SECOND
) WITH (
  'connector' = 'filesystem',
  'path' = '${CSV}',
  'format' = 'csv'
)
;
CREATE TEMPORARY VIEW trades AS
  SELECT symbol, CAST(price AS DOUBLE) AS price, CAST(volume AS BIGINT) AS volume, rt
  FROM events WHERE `type` = 'Trade'
;
SELECT * FROM trades
  MATCH_RECOGNIZE (
    PARTITION BY symbol
    ORDER BY rt
    MEASURES A.rt AS a_ts, A.price AS price_a, B.price AS price_b
    ONE ROW PER MATCH
    AFTER MATCH SKIP TO NEXT ROW
    PATTERN (A X*? B) WITHIN INTERVAL '300.001' SECOND(3)
    DEFINE B AS B.price > A.price * 1.002
  )

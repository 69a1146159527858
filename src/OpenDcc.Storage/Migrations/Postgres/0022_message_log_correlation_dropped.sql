-- An index on the log's correlation (RequestID), made by 0020 for 'log show --request-id', cost the gateway about a
-- quarter of its throughput: each request inserts three entries at scattered places in it, so every group commit wrote
-- a page of it per entry. It is gone ('log show --request-id' reads a window of recent entries instead); a store that
-- made it drops it here. 0020 itself is no longer applied.
DROP INDEX IF EXISTS message_log_correlation;

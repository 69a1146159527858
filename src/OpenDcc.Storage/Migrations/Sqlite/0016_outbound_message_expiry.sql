-- A failed message is purged a retention period after its retry window ended, counted from when it was queued, so
-- that sending it again when its user is reachable again (which moves its last attempt on) does not keep it for ever.
CREATE INDEX outbound_message_expiry ON outbound_message (state, enqueued_at);

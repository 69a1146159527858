-- The delivery queue's indexes over the one state each serves, as the failed queue's by user is (0039). Keyed by state
-- first (0003, 0016), each took every message queued and every change of its state, whatever state its queries ask
-- for: a message queued for delivery went into four indexes and its delivery changed three of them; one held in the
-- failed queue went into four. Now a message goes into its state's indexes only: pending, the due index; delivered,
-- the settled one; failed, the failed queue's three (in time order, by time queued, by user). The failed queue in time
-- order (all users: listing, requeue) was read through the settled index; it has its own. The queries name the state
-- as a literal, which a partial index needs (a bound parameter would not do).
DROP INDEX outbound_message_due;
DROP INDEX outbound_message_settled;
DROP INDEX outbound_message_expiry;
CREATE INDEX outbound_message_due ON outbound_message (next_attempt_at, id) WHERE state = 'Pending';
CREATE INDEX outbound_message_settled ON outbound_message (last_attempt_at, id) WHERE state = 'Delivered';
CREATE INDEX outbound_message_failed ON outbound_message (last_attempt_at, id) WHERE state = 'Failed';
CREATE INDEX outbound_message_expiry ON outbound_message (enqueued_at, id) WHERE state = 'Failed';

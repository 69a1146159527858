-- The bound below which lies every ACB counter the hub has put on a device command (AcbCounters): raised a minute of
-- counters ahead before one above it is used, so that a hub started again goes on above every counter given before,
-- whatever its clock says. One row. Unsigned 64-bit, kept as 20-digit zero-padded text so that text order is numeric.
CREATE TABLE acb_counter (
    id                INTEGER PRIMARY KEY CHECK (id = 1),
    reserved_through  TEXT NOT NULL CHECK (length(reserved_through) = 20)
) STRICT;

-- What became of one request: 'opendcc log show --request-id' reads the entries of one RequestID (the request, its
-- response, the device's answer and each attempt to deliver it) without reading the whole log.
CREATE INDEX message_log_correlation ON message_log (correlation, sequence);

-- Which 8.13 took a local command's answer. The same 8.13 sent again (its first reply was not logged, so the user never
-- had it, and the answer's mark could not be taken back, the store being away) takes it again; any other 8.13 may not.
ALTER TABLE local_command ADD COLUMN returned_by text;

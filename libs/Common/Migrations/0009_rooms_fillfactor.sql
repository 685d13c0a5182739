-- Every stored message updates its room's row (the next sequence number, the message count). With
-- free space left on each page, that new row version fits on the same page as the old one, and as
-- no indexed column changes, it is a heap-only (HOT) update: no index entry is written and the old
-- version is pruned in place. Pages written from now on keep 30 % free; VACUUM FULL repacks old ones.
ALTER TABLE rooms SET (fillfactor = 70);

-- Images imported from pixmo shards have no file of their own: their bytes live here
-- (`path` is then empty).
ALTER TABLE images ADD COLUMN bytes BLOB;

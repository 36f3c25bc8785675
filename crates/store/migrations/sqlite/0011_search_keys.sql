-- Search at city scale (1,000,000 persons): every search kind starts from an index that
-- yields its matches in the order they are listed, so a query reads about as many index
-- entries as it returns, whatever the size of the city.
--
-- * person_name_parts: one row for every suffix of every person's name (张三丰 gives 张三丰,
--   三丰 and 丰), so "the name contains X" is a range scan of the parts beginning with X,
--   with the township beside each entry for the scope. Triggers on persons keep the parts in
--   step with every write path (forms, imports, fixtures); a large import drops them and
--   fills the parts in one sorted pass (store/src/registry/import). No second index by
--   township: a township's search skips the other townships' entries of the range (about a
--   hundred per match of a common surname, ~0.2 ms), while the index would cost a million-
--   person import ~4 s more.
-- * name_positions: the character positions 1..64 the triggers cut names at (the forms and
--   imports allow 50 characters).
-- * persons (name_pinyin, township_code): full-pinyin prefixes (zhang…); persons
--   (name_initials, township_code): initials prefixes (zw…); persons (id_last4,
--   township_code): the last four characters of the ID number alone.
CREATE TABLE name_positions (n INTEGER PRIMARY KEY);
WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 64)
  INSERT INTO name_positions (n) SELECT n FROM c;

CREATE TABLE person_name_parts (
    part          TEXT NOT NULL,
    person_id     INTEGER NOT NULL,
    township_code TEXT NOT NULL,
    PRIMARY KEY (part, person_id)
) WITHOUT ROWID;
INSERT INTO person_name_parts (part, person_id, township_code)
  SELECT substr(p.name, n.n), p.id, p.township_code
  FROM persons p JOIN name_positions n ON n.n <= length(p.name)
  ORDER BY 1, 2;

CREATE TRIGGER person_name_parts_insert AFTER INSERT ON persons BEGIN
  INSERT INTO person_name_parts (part, person_id, township_code)
    SELECT substr(NEW.name, n), NEW.id, NEW.township_code
    FROM name_positions WHERE n <= length(NEW.name); END;
CREATE TRIGGER person_name_parts_update AFTER UPDATE OF name, township_code ON persons
  WHEN OLD.name IS NOT NEW.name OR OLD.township_code IS NOT NEW.township_code BEGIN
  DELETE FROM person_name_parts WHERE person_id = OLD.id
    AND part IN (SELECT substr(OLD.name, n) FROM name_positions WHERE n <= length(OLD.name))
  ; INSERT INTO person_name_parts (part, person_id, township_code)
    SELECT substr(NEW.name, n), NEW.id, NEW.township_code
    FROM name_positions WHERE n <= length(NEW.name); END;
CREATE TRIGGER person_name_parts_delete AFTER DELETE ON persons BEGIN
  DELETE FROM person_name_parts WHERE person_id = OLD.id
    AND part IN (SELECT substr(OLD.name, n) FROM name_positions WHERE n <= length(OLD.name)); END;

DROP INDEX persons_initials;
CREATE INDEX persons_initials ON persons (name_initials, township_code);
CREATE INDEX persons_pinyin ON persons (name_pinyin, township_code);
CREATE INDEX persons_last4 ON persons (id_last4, township_code);

-- A listed household's member count (active members) is read from the index alone.
DROP INDEX persons_household;
CREATE INDEX persons_household ON persons (household_id, status);

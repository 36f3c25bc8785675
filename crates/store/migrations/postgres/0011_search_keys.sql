-- Search at city scale (1,000,000 persons): every search kind starts from an index that
-- yields its matches in the order they are listed, so a query reads about as many index
-- entries as it returns, whatever the size of the city (see the SQLite file of the same
-- number). Text compared by ranges is in the "C" collation, so the order is bytewise as in
-- SQLite and a prefix is one range.
--
-- * person_name_parts: one row for every suffix of every person's name; "the name contains
--   X" is a range scan of the parts beginning with X, the township beside each entry, and
--   a township's search a range scan of its scope index.
--   Statement-level triggers on persons keep it in step with every write path (an
--   import's batch of 10,000 persons is one set insert).
-- * persons (name_pinyin, township_code), (name_initials, township_code),
--   (id_last4, township_code): pinyin prefixes, initials prefixes, the last four
--   characters of the ID number alone.
CREATE TABLE person_name_parts (
    part          TEXT COLLATE "C" NOT NULL,
    person_id     BIGINT NOT NULL,
    township_code TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (part, person_id) INCLUDE (township_code)
);
INSERT INTO person_name_parts (part, person_id, township_code)
  SELECT substr(p.name, g), p.id, p.township_code
  FROM persons p, generate_series(1, char_length(p.name)) g;
-- A township's search reads its own parts in order. (SQLite does without: there a
-- township's search skips the other townships' entries cheaply, and a large import would
-- pay for the index; PostgreSQL's planner instead collects and sorts a township's matches
-- of a common surname when it has no index to read them in order.)
CREATE INDEX person_name_parts_scope ON person_name_parts (township_code, part, person_id);

CREATE FUNCTION person_name_parts_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO person_name_parts (part, person_id, township_code)
    SELECT substr(n.name, g), n.id, n.township_code
    FROM new_persons n, generate_series(1, char_length(n.name)) g
  ; RETURN NULL
  ; END $$;
CREATE FUNCTION person_name_parts_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM person_name_parts k USING (
      SELECT substr(o.name, g) AS part, o.id FROM old_persons o,
        generate_series(1, char_length(o.name)) g) d
    WHERE k.part = d.part AND k.person_id = d.id
  ; RETURN NULL
  ; END $$;
CREATE FUNCTION person_name_parts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM person_name_parts k USING (
      SELECT substr(o.name, g) AS part, o.id
      FROM old_persons o JOIN new_persons n ON n.id = o.id,
        generate_series(1, char_length(o.name)) g
      WHERE o.name <> n.name OR o.township_code <> n.township_code) d
    WHERE k.part = d.part AND k.person_id = d.id
  ; INSERT INTO person_name_parts (part, person_id, township_code)
    SELECT substr(n.name, g), n.id, n.township_code
    FROM old_persons o JOIN new_persons n ON n.id = o.id,
      generate_series(1, char_length(n.name)) g
    WHERE o.name <> n.name OR o.township_code <> n.township_code
  ; RETURN NULL
  ; END $$;
CREATE TRIGGER person_name_parts_insert AFTER INSERT ON persons
  REFERENCING NEW TABLE AS new_persons
  FOR EACH STATEMENT EXECUTE FUNCTION person_name_parts_added();
CREATE TRIGGER person_name_parts_update AFTER UPDATE ON persons
  REFERENCING OLD TABLE AS old_persons NEW TABLE AS new_persons
  FOR EACH STATEMENT EXECUTE FUNCTION person_name_parts_changed();
CREATE TRIGGER person_name_parts_delete AFTER DELETE ON persons
  REFERENCING OLD TABLE AS old_persons
  FOR EACH STATEMENT EXECUTE FUNCTION person_name_parts_removed();

-- Pinyin, initials and last four digits are ASCII: compared bytewise.
DROP INDEX persons_initials;
ALTER TABLE persons ALTER COLUMN name_pinyin TYPE TEXT COLLATE "C";
ALTER TABLE persons ALTER COLUMN name_initials TYPE TEXT COLLATE "C";
ALTER TABLE persons ALTER COLUMN id_last4 TYPE TEXT COLLATE "C";
CREATE INDEX persons_initials ON persons (name_initials, township_code);
CREATE INDEX persons_pinyin ON persons (name_pinyin, township_code);
CREATE INDEX persons_last4 ON persons (id_last4, township_code);

-- A listed household's member count (active members) is read from the index alone.
DROP INDEX persons_household;
CREATE INDEX persons_household ON persons (household_id, status);

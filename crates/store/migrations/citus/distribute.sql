-- Distribution on a Citus cluster (ARCHITECTURE.md, "A province on a distributed
-- PostgreSQL"), applied once by `minzheng migrate` after the PostgreSQL migrations when the
-- database has the citus extension. Every table that carries county_code is distributed
-- by it and co-located with households; the small shared tables are reference tables
-- (a copy on every node); the city-wide rule of one person per ID number is kept by
-- person_ids, distributed by the ID number itself.
DO $distribute$
DECLARE
  reference_tables TEXT[] := ARRAY['divisions', 'offices', 'users', 'sessions',
    'signin_failures', 'std_params', 'program_params', 'bank_templates', 'stats_locks',
    'external_batches', 'external_records'];
  -- References to a person or a household may cross counties once the person or the
  -- household moves: they are checked by the store, not by the cluster.
  movable TEXT[] := ARRAY['persons', 'households'];
  dist TEXT[];
  t TEXT;
  r RECORD;
  cols TEXT;
  fks TEXT[] := ARRAY[]::TEXT[];
  stmt TEXT;
BEGIN
  SELECT array_agg(c.relname::text ORDER BY c.relname) INTO dist
    FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
   WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
     AND NOT c.relispartition AND a.attname = 'county_code' AND NOT a.attisdropped
     AND c.relname <> ALL (reference_tables) AND c.relname <> 'program_params';

  -- 1. Foreign keys between distributed tables: dropped now, and those whose rows always
  --    share a county added again below with the county in both column lists.
  FOR r IN
    SELECT con.conname, con.conrelid::regclass::text AS tbl, con.confrelid::regclass::text AS ref,
           con.confdeltype,
           (SELECT array_agg(a.attname::text ORDER BY k.i) FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
              JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n) AS src,
           (SELECT array_agg(a.attname::text ORDER BY k.i) FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
              JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n) AS dst
      FROM pg_constraint con
     WHERE con.contype = 'f' AND con.conparentid = 0
       AND con.conrelid::regclass::text = ANY (dist) AND con.confrelid::regclass::text = ANY (dist)
  LOOP
    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', r.tbl, r.conname);
    IF r.ref = ANY (movable) THEN
      CONTINUE;
    END IF;
    IF NOT 'county_code' = ANY (r.src) THEN
      r.src := r.src || 'county_code'::text;
      r.dst := r.dst || 'county_code'::text;
    END IF;
    fks := fks || format('ALTER TABLE %I ADD CONSTRAINT %I FOREIGN KEY (%s) REFERENCES %I (%s)%s',
      r.tbl, r.conname, array_to_string(r.src, ', '), r.ref, array_to_string(r.dst, ', '),
      CASE r.confdeltype WHEN 'c' THEN ' ON DELETE CASCADE' ELSE '' END);
  END LOOP;

  -- 2. Primary keys and unique constraints of distributed tables take the county.
  FOR r IN
    SELECT con.conname, con.conrelid::regclass::text AS tbl, con.contype,
           (SELECT array_agg(a.attname::text ORDER BY k.i) FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
              JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n) AS keys,
           (SELECT array_agg(a.attname::text) FROM pg_index ix
              CROSS JOIN LATERAL unnest(ix.indkey[ix.indnkeyatts:]) AS n
              JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = n
             WHERE ix.indexrelid = con.conindid) AS included
      FROM pg_constraint con
     WHERE con.contype IN ('p', 'u') AND con.conparentid = 0
       AND con.conrelid::regclass::text = ANY (dist)
  LOOP
    CONTINUE WHEN 'county_code' = ANY (r.keys);
    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', r.tbl, r.conname);
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I %s (%s, county_code)%s', r.tbl, r.conname,
      CASE r.contype WHEN 'p' THEN 'PRIMARY KEY' ELSE 'UNIQUE' END, array_to_string(r.keys, ', '),
      CASE WHEN r.included IS NULL THEN '' ELSE format(' INCLUDE (%s)', array_to_string(r.included, ', ')) END);
  END LOOP;

  -- 3. Unique indexes that back no constraint, likewise (partial ones keep their condition).
  FOR r IN
    SELECT i.relname AS idx, c.relname AS tbl, pg_get_expr(ix.indpred, ix.indrelid) AS pred,
           (SELECT array_agg(a.attname::text ORDER BY k.i) FROM unnest(ix.indkey[0:ix.indnkeyatts - 1]) WITH ORDINALITY k(n, i)
              JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.n) AS keys
      FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class c ON c.oid = ix.indrelid
     WHERE ix.indisunique AND NOT c.relispartition AND c.relname = ANY (dist)
       AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = ix.indexrelid)
  LOOP
    CONTINUE WHEN 'county_code' = ANY (r.keys);
    EXECUTE format('DROP INDEX %I', r.idx);
    EXECUTE format('CREATE UNIQUE INDEX %I ON %I (%s, county_code)%s', r.idx, r.tbl,
      array_to_string(r.keys, ', '), CASE WHEN r.pred IS NULL THEN '' ELSE ' WHERE ' || r.pred END);
  END LOOP;

  -- 4. The search's name parts follow their person row by row: a shard runs the
  --    triggers of its own rows, and a statement's transition table does not reach the
  --    co-located shard of person_name_parts, a single row does.
  CREATE FUNCTION person_name_parts_row_added() RETURNS trigger LANGUAGE plpgsql AS $f$
  BEGIN
    FOR g IN 1..char_length(NEW.name) LOOP
      INSERT INTO person_name_parts (part, person_id, township_code, county_code)
        VALUES (substr(NEW.name, g), NEW.id, NEW.township_code, NEW.county_code);
    END LOOP;
    RETURN NULL;
  END $f$;
  CREATE FUNCTION person_name_parts_row_removed() RETURNS trigger LANGUAGE plpgsql AS $f$
  BEGIN
    DELETE FROM person_name_parts WHERE person_id = OLD.id AND county_code = OLD.county_code;
    RETURN NULL;
  END $f$;
  CREATE FUNCTION person_name_parts_row_changed() RETURNS trigger LANGUAGE plpgsql AS $f$
  BEGIN
    IF OLD.name <> NEW.name OR OLD.township_code <> NEW.township_code THEN
      DELETE FROM person_name_parts WHERE person_id = OLD.id AND county_code = OLD.county_code;
      FOR g IN 1..char_length(NEW.name) LOOP
        INSERT INTO person_name_parts (part, person_id, township_code, county_code)
          VALUES (substr(NEW.name, g), NEW.id, NEW.township_code, NEW.county_code);
      END LOOP;
    END IF;
    RETURN NULL;
  END $f$;
  DROP TRIGGER person_name_parts_insert ON persons;
  DROP TRIGGER person_name_parts_update ON persons;
  DROP TRIGGER person_name_parts_delete ON persons;
  CREATE TRIGGER person_name_parts_insert AFTER INSERT ON persons
    FOR EACH ROW EXECUTE FUNCTION person_name_parts_row_added();
  CREATE TRIGGER person_name_parts_update AFTER UPDATE ON persons
    FOR EACH ROW EXECUTE FUNCTION person_name_parts_row_changed();
  CREATE TRIGGER person_name_parts_delete AFTER DELETE ON persons
    FOR EACH ROW EXECUTE FUNCTION person_name_parts_row_removed();

  -- 5. The reference tables, then the distributed ones, co-located with households.
  FOREACH t IN ARRAY reference_tables LOOP
    PERFORM create_reference_table(t);
  END LOOP;
  PERFORM create_distributed_table('households', 'county_code');
  FOREACH t IN ARRAY dist LOOP
    CONTINUE WHEN t = 'households';
    PERFORM create_distributed_table(t, 'county_code', colocate_with => 'households');
  END LOOP;
  FOREACH stmt IN ARRAY fks LOOP
    EXECUTE stmt;
  END LOOP;

  -- 6. One person per ID number across the city: the ID numbers, distributed by
  --    themselves, so the check is one shard's primary key.
  CREATE TABLE person_ids (
    id_number   TEXT COLLATE "C" PRIMARY KEY,
    person_id   BIGINT NOT NULL,
    home_county TEXT COLLATE "C" NOT NULL
  );
  PERFORM create_distributed_table('person_ids', 'id_number', colocate_with => 'none');
  -- A join of two distributed tables not on the county (a person's cases by person id,
  -- an ID number's payments) is answered by repartitioning the rows between the nodes.
  EXECUTE format('ALTER DATABASE %I SET citus.enable_repartition_joins = on', current_database());
  -- The persons table's search-key triggers touch only the co-located shard of
  -- person_name_parts; a large import disables and enables them.
  EXECUTE format('ALTER DATABASE %I SET citus.enable_unsafe_triggers = on', current_database());
  INSERT INTO person_ids (id_number, person_id, home_county)
    SELECT id_number, id, county_code FROM persons;
END
$distribute$;

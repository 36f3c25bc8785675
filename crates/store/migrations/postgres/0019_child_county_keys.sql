-- Keys for distribution, the children: a notice board's entries and an inspection's items
-- carry the county code of their parent (the batch, the inspection) in their own column,
-- county_code, and reference the parent by (id, county_code), so a distributed PostgreSQL
-- keeps each with its parent on one node and checks the reference there
-- (ARCHITECTURE.md, "Keys for distribution"). The pair's foreign key is also what keeps
-- the column equal to the parent's, and it replaces the reference by the id alone.

ALTER TABLE notice_entries ADD COLUMN county_code TEXT COLLATE "C";
UPDATE notice_entries e SET county_code = b.county_code FROM notice_batches b WHERE b.id = e.batch_id;
ALTER TABLE notice_entries ALTER COLUMN county_code SET NOT NULL;
ALTER TABLE notice_batches ADD CONSTRAINT notice_batches_id_county UNIQUE (id, county_code);
ALTER TABLE notice_entries ADD CONSTRAINT notice_entries_batch_county
  FOREIGN KEY (batch_id, county_code) REFERENCES notice_batches (id, county_code);
ALTER TABLE notice_entries DROP CONSTRAINT notice_entries_batch_id_fkey;

ALTER TABLE inspection_items ADD COLUMN county_code TEXT COLLATE "C";
UPDATE inspection_items i SET county_code = n.county_code FROM inspections n WHERE n.id = i.inspection_id;
ALTER TABLE inspection_items ALTER COLUMN county_code SET NOT NULL;
ALTER TABLE inspections ADD CONSTRAINT inspections_id_county UNIQUE (id, county_code);
ALTER TABLE inspection_items ADD CONSTRAINT inspection_items_inspection_county
  FOREIGN KEY (inspection_id, county_code) REFERENCES inspections (id, county_code);
ALTER TABLE inspection_items DROP CONSTRAINT inspection_items_inspection_id_fkey;

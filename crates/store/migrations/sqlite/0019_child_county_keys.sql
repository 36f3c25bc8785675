-- Keys for distribution, the children (SQLite: the same column, kept equal to the
-- parent's by triggers): a notice board's entries and an inspection's items carry the
-- county code of their parent (the batch, the inspection) in their own column,
-- county_code (ARCHITECTURE.md, "Keys for distribution").

ALTER TABLE notice_entries ADD COLUMN county_code TEXT;
UPDATE notice_entries SET county_code = (SELECT b.county_code FROM notice_batches b WHERE b.id = notice_entries.batch_id);
CREATE TRIGGER notice_entries_county_insert BEFORE INSERT ON notice_entries
  WHEN NEW.county_code IS NOT (SELECT county_code FROM notice_batches WHERE id = NEW.batch_id)
  BEGIN SELECT RAISE(ABORT, 'notice_entries.county_code'); END;
CREATE TRIGGER notice_entries_county_update BEFORE UPDATE OF county_code, batch_id ON notice_entries
  WHEN NEW.county_code IS NOT (SELECT county_code FROM notice_batches WHERE id = NEW.batch_id)
  BEGIN SELECT RAISE(ABORT, 'notice_entries.county_code'); END;

ALTER TABLE inspection_items ADD COLUMN county_code TEXT;
UPDATE inspection_items SET county_code = (SELECT n.county_code FROM inspections n WHERE n.id = inspection_items.inspection_id);
CREATE TRIGGER inspection_items_county_insert BEFORE INSERT ON inspection_items
  WHEN NEW.county_code IS NOT (SELECT county_code FROM inspections WHERE id = NEW.inspection_id)
  BEGIN SELECT RAISE(ABORT, 'inspection_items.county_code'); END;
CREATE TRIGGER inspection_items_county_update BEFORE UPDATE OF county_code, inspection_id ON inspection_items
  WHEN NEW.county_code IS NOT (SELECT county_code FROM inspections WHERE id = NEW.inspection_id)
  BEGIN SELECT RAISE(ABORT, 'inspection_items.county_code'); END;

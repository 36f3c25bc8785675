-- Two more persons indexes that cost every import a sort of the whole table and served no
-- query of their own.
-- * persons (id_last4): the "last four digits + name" search always has the full name, so
--   it goes through persons (name_initials) with the name's initials and filters the few
--   rows there by the last four digits and the name.
-- * persons (township_code, status): every scoped query reaches persons through their
--   household (households_scope / households_village, then persons_household).
DROP INDEX persons_last4;
DROP INDEX persons_scope;

-- The legacy land-use code beside the current one (issue 10): an import
-- that brings a 25/2014 or 27/2018 code (BHK, DDT, ...) to Circular
-- 08/2024 writes the current code in land_use_code and keeps the code the
-- source carried here. Nullable, no default: parcels that never had an old
-- code have none. The change triggers (0002) cover it like every column.

ALTER TABLE geoplan.parcels ADD COLUMN land_use_code_old text;

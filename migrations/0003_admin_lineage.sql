-- The lineage of the 2025 reorganisation: each commune-level unit before
-- 1 July 2025 once, with the 2025 unit it became part of. The geometry is
-- the old commune's. Columns follow the sample generator's `admin_lineage`.
-- A 2025 code alone is not unique in `admin_units` (new units reuse a
-- predecessor's code): join on (new_code, valid_from).

CREATE TABLE geoplan.admin_lineage (
    fid         bigserial PRIMARY KEY,
    geom        geometry(MultiPolygon, 5899) NOT NULL,
    old_code    text,
    old_name    text,
    new_code    text,
    new_name    text,
    valid_from  date,
    relation    text,
    synthetic   boolean DEFAULT false,
    -- An old commune goes into one unit per reorganisation.
    CONSTRAINT admin_lineage_old_code_valid_from UNIQUE (old_code, valid_from)
);
CREATE INDEX admin_lineage_geom_idx ON geoplan.admin_lineage USING gist (geom);
CREATE INDEX admin_lineage_new_code_idx ON geoplan.admin_lineage (new_code);

SELECT geoplan.watch_changes('geoplan.admin_lineage');

-- Planning records: every compliance check (POST /planning/check) and every
-- issued planning information sheet, kept as asked and answered so that it
-- can be fetched again by id and an issued sheet verified by its code.
--
-- Not a layer: no geometry column, so it is not in geometry_columns and
-- never loads into the engine; no change triggers (nothing to refresh).
--
-- `request` and `answer` are `json`, not `jsonb`: json keeps the text
-- exactly as written (canonical JSON, keys sorted), so the SHA-256 in
-- `sha256` recomputes over the same bytes. `created_at` keeps microseconds,
-- which is what the hash covers. Records are immutable: UPDATE is refused.

CREATE TABLE geoplan.planning_records (
    id          text PRIMARY KEY CHECK (id ~ '^[0-7][0-9A-HJKMNP-TV-Z]{25}$'),
    code        text NOT NULL UNIQUE CHECK (code ~ '^[0-9A-HJKMNP-TV-Z]{10}$'),
    kind        text NOT NULL CHECK (kind IN ('check', 'sheet')),
    created_at  timestamptz NOT NULL,
    user_name   text,
    request     json NOT NULL,
    answer      json NOT NULL,
    sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$')
);
CREATE INDEX planning_records_created_at_idx ON geoplan.planning_records (created_at);

CREATE FUNCTION geoplan.refuse_record_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'planning records are immutable';
END;
$$;

CREATE TRIGGER planning_records_immutable BEFORE UPDATE ON geoplan.planning_records
FOR EACH ROW EXECUTE FUNCTION geoplan.refuse_record_update();

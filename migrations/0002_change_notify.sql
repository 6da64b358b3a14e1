-- Change notification: every committed INSERT, UPDATE, DELETE or TRUNCATE on
-- a layer table sends one NOTIFY on channel `geoplan_changes`, so that every
-- geoplan instance can refresh its in-memory copy of the layer.
--
-- Payload (JSON):
--   {"layer": "<table>", "fids": [1, 2, 3]}   the fids inserted, updated
--                                              (old and new) or deleted
--   {"layer": "<table>", "all": true}          too many to list, or TRUNCATE:
--                                              reload the whole layer
--
-- The triggers are statement-level with transition tables, so a statement
-- touching a million rows costs one notification, not a million. PostgreSQL
-- refuses transition tables on multi-event triggers, hence one trigger per
-- event. NOTIFY payloads must stay under 8000 bytes: more than 1000 rows, or
-- a fid list that would not fit, becomes "all".
--
-- geoplan's bulk loader sets `geoplan.bulk_load = on` for its transaction and
-- sends one "all" per layer itself.

CREATE FUNCTION geoplan.notify_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    n       bigint;
    fids    bigint[];
    payload text;
BEGIN
    IF current_setting('geoplan.bulk_load', true) = 'on' THEN
        RETURN NULL;
    END IF;

    IF TG_OP = 'INSERT' THEN
        SELECT count(*) INTO n FROM new_rows;
        IF n <= 1000 THEN
            SELECT array_agg(fid ORDER BY fid) INTO fids FROM new_rows;
        END IF;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT count(*) INTO n FROM old_rows;
        IF n <= 1000 THEN
            SELECT array_agg(fid ORDER BY fid) INTO fids FROM old_rows;
        END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT count(*) INTO n FROM old_rows;
        IF n <= 1000 THEN
            -- An update may change the fid itself: report both.
            SELECT array_agg(fid ORDER BY fid) INTO fids
            FROM (SELECT fid FROM old_rows UNION SELECT fid FROM new_rows) AS changed;
        END IF;
    END IF;  -- TRUNCATE leaves n NULL: "all".

    IF n = 0 THEN
        RETURN NULL;  -- nothing changed, nothing to say
    END IF;
    IF fids IS NOT NULL THEN
        payload := json_build_object('layer', TG_TABLE_NAME, 'fids', fids)::text;
        IF octet_length(payload) >= 8000 THEN
            payload := NULL;
        END IF;
    END IF;
    IF payload IS NULL THEN
        payload := json_build_object('layer', TG_TABLE_NAME, 'all', true)::text;
    END IF;
    PERFORM pg_notify('geoplan_changes', payload);
    RETURN NULL;
END;
$$;

-- Attaches the four change triggers to a layer table. Later migrations that
-- add a layer call this too.
CREATE FUNCTION geoplan.watch_changes(tbl regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'CREATE TRIGGER geoplan_notify_insert AFTER INSERT ON %s '
        'REFERENCING NEW TABLE AS new_rows '
        'FOR EACH STATEMENT EXECUTE FUNCTION geoplan.notify_change()', tbl);
    EXECUTE format(
        'CREATE TRIGGER geoplan_notify_update AFTER UPDATE ON %s '
        'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
        'FOR EACH STATEMENT EXECUTE FUNCTION geoplan.notify_change()', tbl);
    EXECUTE format(
        'CREATE TRIGGER geoplan_notify_delete AFTER DELETE ON %s '
        'REFERENCING OLD TABLE AS old_rows '
        'FOR EACH STATEMENT EXECUTE FUNCTION geoplan.notify_change()', tbl);
    EXECUTE format(
        'CREATE TRIGGER geoplan_notify_truncate AFTER TRUNCATE ON %s '
        'FOR EACH STATEMENT EXECUTE FUNCTION geoplan.notify_change()', tbl);
END;
$$;

SELECT geoplan.watch_changes('geoplan.admin_units');
SELECT geoplan.watch_changes('geoplan.parcels');
SELECT geoplan.watch_changes('geoplan.zoning_lots');
SELECT geoplan.watch_changes('geoplan.plans');
SELECT geoplan.watch_changes('geoplan.roads');
SELECT geoplan.watch_changes('geoplan.water');
SELECT geoplan.watch_changes('geoplan.industrial_zones');
SELECT geoplan.watch_changes('geoplan.pois');
SELECT geoplan.watch_changes('geoplan.investment_projects');

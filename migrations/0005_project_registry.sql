-- The investment-project registry (issue 8 §2): the registry's fields on
-- the investment_projects layer, and the append-only history of each
-- project's legal procedure (src/store/history.rs).
--
-- The new columns are nullable and have no defaults: projects loaded or
-- edited before the registry existed simply have none yet. The layer's
-- change triggers (0002) cover them like every other column.

ALTER TABLE geoplan.investment_projects
    ADD COLUMN stage                 text,
    ADD COLUMN stage_date            date,
    ADD COLUMN capital_disbursed_vnd bigint,
    ADD COLUMN next_deadline         date,
    ADD COLUMN next_deadline_what    text,
    ADD COLUMN plan_conflict         boolean,
    ADD COLUMN check_id              text;

-- One row per step a project took: written with the project's edit in one
-- transaction, never updated or deleted. Not a layer: no geometry column,
-- so it is not in geometry_columns and never loads into the engine; no
-- change triggers. `seq` is the order of recording (a rolled-back write
-- may leave a gap). `project_fid` has no foreign key: `geoplan load`
-- replaces the project rows, and the history outlives them.
--
-- `day` is a date (the column type refuses anything else; geoplan sends
-- YYYY-MM-DD), `recorded_at` keeps microseconds, as the GeoPackage's text
-- does, so both stores return the same spelling.

CREATE TABLE geoplan.project_history (
    seq          bigserial PRIMARY KEY,
    project_fid  bigint NOT NULL,
    from_stage   text CHECK (from_stage <> ''),
    to_stage     text NOT NULL CHECK (to_stage <> ''),
    day          date NOT NULL,
    decision     text,
    authority    text,
    note         text,
    user_name    text,
    recorded_at  timestamptz NOT NULL
);
CREATE INDEX project_history_project_idx ON geoplan.project_history (project_fid, seq);

CREATE FUNCTION geoplan.refuse_history_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'project history is append-only';
END;
$$;

CREATE TRIGGER project_history_append_only BEFORE UPDATE OR DELETE ON geoplan.project_history
FOR EACH ROW EXECUTE FUNCTION geoplan.refuse_history_change();

CREATE TRIGGER project_history_no_truncate BEFORE TRUNCATE ON geoplan.project_history
FOR EACH STATEMENT EXECUTE FUNCTION geoplan.refuse_history_change();

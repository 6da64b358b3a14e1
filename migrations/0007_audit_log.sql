-- The audit log: every write and every showing of a sensitive field, with
-- who, what and when. Append-only: UPDATE and DELETE are refused by
-- trigger, and geoplan has no endpoint that changes it (admins read it
-- with GET /audit). Not a layer: no geometry, never loaded.

CREATE TABLE geoplan.audit_log (
    seq         bigserial PRIMARY KEY,
    at          timestamptz NOT NULL,
    who         text,
    role        text NOT NULL,
    action      text NOT NULL,
    request     text NOT NULL,
    detail      jsonb NOT NULL
);
CREATE INDEX audit_log_at_idx ON geoplan.audit_log (at);

CREATE FUNCTION geoplan.refuse_audit_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON geoplan.audit_log
FOR EACH ROW EXECUTE FUNCTION geoplan.refuse_audit_change();

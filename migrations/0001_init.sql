-- geoplan's layers in PostGIS. Every table is one layer: `fid` is the stable
-- feature id, `geom` holds one geometry type in VN-2000 / TM-3 107°45′
-- (EPSG:5899), and the attribute columns follow the sample generator's
-- schema in name, order and type.

CREATE EXTENSION IF NOT EXISTS postgis;
CREATE SCHEMA IF NOT EXISTS geoplan;

CREATE TABLE geoplan.admin_units (
    fid          bigserial PRIMARY KEY,
    geom         geometry(MultiPolygon, 5899) NOT NULL,
    code         text,
    name         text,
    "level"      text,
    unit_type    text,
    parent_code  text,
    valid_from   date,
    valid_to     date,
    synthetic    boolean DEFAULT false
);
CREATE INDEX admin_units_geom_idx ON geoplan.admin_units USING gist (geom);

CREATE TABLE geoplan.parcels (
    fid                 bigserial PRIMARY KEY,
    geom                geometry(Polygon, 5899) NOT NULL,
    commune_code        text,
    commune_name        text,
    district_name       text,
    sheet_number        integer,
    parcel_number       integer,
    legal_area          double precision,
    land_use_code       text,
    address             text,
    certificate_number  text,
    synthetic           boolean DEFAULT false,
    -- The cadastral key: sheets are numbered inside each pre-2025 commune.
    CONSTRAINT parcels_cadastral_key UNIQUE (commune_code, sheet_number, parcel_number)
);
CREATE INDEX parcels_geom_idx ON geoplan.parcels USING gist (geom);
CREATE INDEX parcels_land_use_code_idx ON geoplan.parcels (land_use_code);

CREATE TABLE geoplan.zoning_lots (
    fid          bigserial PRIMARY KEY,
    geom         geometry(Polygon, 5899) NOT NULL,
    zone_code    text,
    lot_symbol   text,
    "function"   text,
    density_pct  double precision,
    floors_min   integer,
    floors_max   integer,
    far          double precision,
    area_m2      double precision,
    plan_code    text,
    synthetic    boolean DEFAULT false
);
CREATE INDEX zoning_lots_geom_idx ON geoplan.zoning_lots USING gist (geom);

CREATE TABLE geoplan.plans (
    fid                  bigserial PRIMARY KEY,
    geom                 geometry(Polygon, 5899) NOT NULL,
    code                 text UNIQUE,
    name                 text,
    "level"              text,
    approval_decision    text,
    approval_date        date,
    approving_authority  text,
    status               text,
    synthetic            boolean DEFAULT false
);
CREATE INDEX plans_geom_idx ON geoplan.plans USING gist (geom);

CREATE TABLE geoplan.roads (
    fid         bigserial PRIMARY KEY,
    geom        geometry(LineString, 5899) NOT NULL,
    name        text,
    road_class  text,
    "ref"       text,
    width_m     double precision,
    synthetic   boolean DEFAULT false
);
CREATE INDEX roads_geom_idx ON geoplan.roads USING gist (geom);

CREATE TABLE geoplan.water (
    fid        bigserial PRIMARY KEY,
    geom       geometry(LineString, 5899) NOT NULL,
    name       text,
    kind       text,
    synthetic  boolean DEFAULT false
);
CREATE INDEX water_geom_idx ON geoplan.water USING gist (geom);

CREATE TABLE geoplan.industrial_zones (
    fid        bigserial PRIMARY KEY,
    geom       geometry(Polygon, 5899) NOT NULL,
    name       text,
    kind       text,
    area_ha    double precision,
    note       text,
    synthetic  boolean DEFAULT false
);
CREATE INDEX industrial_zones_geom_idx ON geoplan.industrial_zones USING gist (geom);

CREATE TABLE geoplan.pois (
    fid        bigserial PRIMARY KEY,
    geom       geometry(Point, 5899) NOT NULL,
    name       text,
    kind       text,
    synthetic  boolean DEFAULT false
);
CREATE INDEX pois_geom_idx ON geoplan.pois USING gist (geom);

CREATE TABLE geoplan.investment_projects (
    fid                bigserial PRIMARY KEY,
    geom               geometry(Polygon, 5899) NOT NULL,
    name               text,
    status             text,
    capital_vnd        bigint,
    capital_usd        double precision,
    area_ha            double precision,
    "function"         text,
    zone_name          text,
    investor           text,
    approval_decision  text,
    synthetic          boolean DEFAULT false
);
CREATE INDEX investment_projects_geom_idx ON geoplan.investment_projects USING gist (geom);

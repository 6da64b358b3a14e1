//! `GET /api`: the OpenAPI 3.0 document of the planning REST endpoints
//! (parcel lookup and planning answers). OGC API – Features has its own at
//! `/ogcapi/api`.

use super::{base_url, DataState};
use crate::config::Config;
use crate::engine::Catalog;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// Media type of the document.
pub const OPENAPI_JSON: &str = "application/vnd.oai.openapi+json;version=3.0";

fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    })
}

fn answer_ok() -> Value {
    json!({
        "description": "The planning answer.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PlanningInfo"}}},
    })
}

/// Real values for the examples: the first parcel's fid, key, a point
/// inside it (lon/lat) and a small square around that point.
struct Examples {
    fid: i64,
    commune: String,
    sheet: i64,
    parcel: i64,
    point: [f64; 2],
}

fn examples(cat: &Catalog) -> Option<Examples> {
    use crate::model::ValueRef;
    use geo::InteriorPoint;
    let l = cat.layer("parcels")?;
    // Rows are in fid order: the first live one of the base (or delta).
    let part = |p| l.data(p).fids.iter().find_map(|fid| l.get(*fid));
    let f = part(crate::engine::Part::Base).or_else(|| part(crate::engine::Part::Delta))?;
    let d = l.data(f.part);
    let row = f.row as usize;
    let v = |n: &str| d.field_index(n).map_or(ValueRef::Null, |c| d.value(row, c));
    let (ValueRef::Text(commune), ValueRef::Int(sheet), ValueRef::Int(parcel)) =
        (v("commune_code"), v("sheet_number"), v("parcel_number"))
    else {
        return None;
    };
    let p = crate::crs::mercator_to_lonlat(d.geometry_of(row)?.interior_point()?.0);
    Some(Examples {
        fid: f.fid,
        commune: commune.to_owned(),
        sheet,
        parcel,
        point: [p.x, p.y],
    })
}

/// The document, with limits from `config` and examples from `cat`.
pub fn document(base: &str, config: &Config, cat: &Catalog) -> Value {
    let ex = examples(cat);
    let ex_or = |f: &dyn Fn(&Examples) -> Value| ex.as_ref().map_or(Value::Null, f);
    let square = ex_or(&|e| {
        let [x, y] = e.point;
        let d = 0.0002;
        json!({"type": "Polygon", "coordinates": [[[x - d, y - d], [x + d, y - d], [x + d, y + d], [x - d, y + d], [x - d, y - d]]]})
    });
    let as_of = json!({
        "name": "as_of", "in": "query", "required": false,
        "description": "The day the answer holds for (default: today in Việt Nam, UTC+7).",
        "schema": {"type": "string", "format": "date"},
        "example": "2026-06-01",
    });
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "geoplan planning API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Parcel lookup by cadastral key or free text, and what the plans say on a parcel, a point or a proposed site. Areas in EPSG:5899 (VN-2000 / TM-3 107°45′).",
        },
        "servers": [{"url": base}],
        "paths": {
            "/parcels": {"get": {
                "summary": "Find parcels by cadastral key (commune, sheet, parcel) or free text",
                "operationId": "findParcels",
                "parameters": [
                    {"name": "commune", "in": "query", "schema": {"type": "string", "minLength": 1}, "example": ex_or(&|e| e.commune.clone().into()),
                     "description": "A pre-2025 GSO code, a 2025 code, or a unit name (diacritics optional)."},
                    {"name": "sheet", "in": "query", "schema": {"type": "integer", "minimum": 1}, "example": ex_or(&|e| e.sheet.into())},
                    {"name": "parcel", "in": "query", "schema": {"type": "integer", "minimum": 1}, "example": ex_or(&|e| e.parcel.into())},
                    {"name": "q", "in": "query", "schema": {"type": "string", "minLength": 1},
                     "description": "Free text: \"tờ 12 thửa 345 Minh An\", an address fragment."},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 20}},
                ],
                "responses": {
                    "200": {"description": "Parcels found, best first.",
                            "content": {"application/json": {"schema": {"type": "object", "required": ["matched", "parcels"],
                                "properties": {"matched": {"type": "integer"}, "parcels": {"type": "array", "items": {"type": "object"}}}}}}},
                    "400": problem("A parameter could not be read."),
                    "404": problem("Nothing matched; suggestions in the detail."),
                    "503": problem("A layer the lookup needs is not loaded."),
                },
            }},
            "/search": {"get": {
                "summary": "One search box: parcels by key, units old and new, plans, decisions, projects, zones, lots, places",
                "operationId": "search",
                "parameters": [
                    {"name": "q", "in": "query", "required": true, "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "\\S"},
                     "example": "tờ 1 thửa 345 Minh An",
                     "description": "What to find, in any spelling (diacritics optional)."},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10}},
                    as_of.clone(),
                ],
                "responses": {
                    "200": {"description": "Suggestions, best first, each with kind, label, detail, layer, fid, CRS84 bbox and score.",
                            "content": {"application/json": {"schema": {"type": "object", "required": ["query", "results"],
                                "properties": {"query": {"type": "string"}, "results": {"type": "array", "items": {"type": "object",
                                    "required": ["kind", "label", "layer", "fid", "score"]}}}}}}},
                    "400": problem("A parameter could not be read."),
                },
            }},
            "/planning": {
                "get": {
                    "summary": "What the plans say on a parcel or at a point",
                    "operationId": "planningInfo",
                    "parameters": [
                        {"name": "parcel", "in": "query", "schema": {"type": "integer", "format": "int64"}, "example": ex_or(&|e| e.fid.into()),
                         "description": "Feature id in the parcels layer (one of parcel or point)."},
                        {"name": "point", "in": "query", "schema": {"type": "string"}, "example": ex_or(&|e| format!("{:.6},{:.6}", e.point[0], e.point[1]).into()),
                         "description": "x,y: longitude,latitude, or easting,northing in point-crs."},
                        {"name": "point-crs", "in": "query", "schema": {"type": "string"},
                         "description": "CRS of point (EPSG:5899, urn:ogc:def:crs:EPSG::5899 …); WGS 84 by default."},
                        as_of.clone(),
                    ],
                    "responses": {
                        "200": answer_ok(),
                        "400": problem("A parameter could not be read."),
                        "404": problem("No such parcel."),
                        "503": problem("The parcels layer is not loaded."),
                    },
                },
                "post": {
                    "summary": "What the plans say on a proposed site",
                    "operationId": "planningInfoForSite",
                    "parameters": [
                        {"name": "crs", "in": "query", "schema": {"type": "string"},
                         "description": "CRS of the site's coordinates (x,y); WGS 84 by default."},
                        as_of.clone(),
                    ],
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {
                        "description": "A GeoJSON Polygon, MultiPolygon or Feature, or {site, crs, as_of}.",
                        "type": "object",
                    }, "example": square}}},
                    "responses": {
                        "200": answer_ok(),
                        "400": problem(&format!(
                            "The site could not be read: not a polygon, empty, not valid, more than {} vertices, out of range for its CRS, or outside the province.",
                            config.planning.max_site_vertices
                        )),
                        "413": {"description": "The body is larger than the limit."},
                    },
                },
            },
            "/planning/check": {"post": {
                "summary": "Check a proposed site and proposal against the plan; the check is stored",
                "operationId": "checkSite",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["site", "proposal"],
                    "properties": {
                        "site": {"type": "object", "description": "GeoJSON Polygon, MultiPolygon or Feature (x,y in crs)."},
                        "crs": {"type": "string", "description": "CRS of the site; WGS 84 by default."},
                        "as_of": {"type": "string", "format": "date"},
                        "proposal": {"type": "object", "required": ["use"], "additionalProperties": false, "properties": {
                            "use": {"type": "string", "description": "Land-use code (TT 08/2024), e.g. TMD."},
                            "floors": {"type": "integer", "minimum": 1, "maximum": 200},
                            "density_pct": {"type": "number", "exclusiveMinimum": true, "minimum": 0, "maximum": 100},
                            "far": {"type": "number", "exclusiveMinimum": true, "minimum": 0, "maximum": 100},
                            "gfa_m2": {"type": "number", "exclusiveMinimum": true, "minimum": 0},
                        }},
                    },
                    "additionalProperties": false,
                }, "example": {"site": square, "proposal": {"use": "TMD", "floors": 5, "density_pct": 50, "far": 2.5}}}}},
                "responses": {
                    "201": {"description": "The check, stored: id, code, result with every rule's sentence (vi, en).",
                            "content": {"application/json": {"schema": {"type": "object",
                                "required": ["id", "code", "created_at", "sha256", "request", "result"]}}}},
                    "400": problem("The site or proposal could not be read: not a polygon, empty, not valid, too many vertices, out of range, outside the province, an unknown use code, floors out of range."),
                    "413": {"description": "The body is larger than the limit."},
                    "503": problem("The check could not be stored."),
                },
            }},
            "/planning/check/{id}": {"get": {
                "summary": "A stored check (JSON), or its printable report (f=pdf or Accept: application/pdf)",
                "operationId": "getCheck",
                "parameters": [
                    {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}},
                    {"name": "f", "in": "query", "schema": {"type": "string", "enum": ["json", "pdf"]}},
                ],
                "responses": {
                    "200": {"description": "The stored check.", "content": {
                        "application/json": {"schema": {"type": "object", "required": ["id", "intact", "request", "result"]}},
                        "application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
                    "400": problem("Not a check id."),
                    "404": problem("No check has that id."),
                    "503": problem("Records cannot be read, or documents cannot be printed."),
                },
            }},
            "/stats/landuse": {"get": {
                "summary": "Parcels and legal area by administrative unit of a day and land-use code or group",
                "operationId": "landuseStats",
                "parameters": [
                    {"name": "level", "in": "query", "schema": {"type": "string", "enum": ["commune", "district", "province"], "default": "commune"}},
                    as_of.clone(),
                    {"name": "unit", "in": "query", "schema": {"type": "string"}, "description": "One unit, by code or name."},
                    {"name": "group", "in": "query", "schema": {"type": "string", "enum": ["code", "group"], "default": "code"}},
                    {"name": "f", "in": "query", "schema": {"type": "string", "enum": ["json", "csv", "xlsx"]}},
                ],
                "responses": {
                    "200": {"description": "Rows per unit and land use, unit totals, the total and whether it reconciles with the parcel layer.",
                            "content": {
                                "application/json": {"schema": {"type": "object", "required": ["as_of", "rows", "units", "total", "layer_total"]}},
                                "text/csv": {"schema": {"type": "string"}},
                                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {"type": "string", "format": "binary"}}}},
                    "400": problem("A parameter could not be read, or there are no districts on that day."),
                    "404": problem("No unit of that level has that name."),
                    "503": problem("The parcels or admin_units layer is not loaded."),
                },
            }},
            "/stats/projects": {"get": {
                "summary": "Investment projects by status, unit or function: count, capital, area",
                "operationId": "projectStats",
                "parameters": [
                    {"name": "by", "in": "query", "schema": {"type": "string", "enum": ["status", "unit", "function"], "default": "status"}},
                    as_of.clone(),
                    {"name": "f", "in": "query", "schema": {"type": "string", "enum": ["json", "csv", "xlsx"]}},
                ],
                "responses": {
                    "200": {"description": "Rows and the total.", "content": {
                        "application/json": {"schema": {"type": "object", "required": ["rows", "total"]}},
                        "text/csv": {"schema": {"type": "string"}},
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {"type": "string", "format": "binary"}}}},
                    "400": problem("A parameter could not be read."),
                    "503": problem("The investment_projects layer is not loaded."),
                },
            }},
            "/projects": {"get": {
                "summary": "The investment-project registry, filtered",
                "operationId": "listProjects",
                "parameters": [
                    {"name": "status", "in": "query", "schema": {"type": "string"}, "example": "investor_selected",
                     "description": "Stages (codes or Vietnamese names, comma list)."},
                    {"name": "unit", "in": "query", "schema": {"type": "string"}},
                    {"name": "function", "in": "query", "schema": {"type": "string"}},
                    {"name": "investor", "in": "query", "schema": {"type": "string"}},
                    {"name": "q", "in": "query", "schema": {"type": "string"}},
                    as_of.clone(),
                ],
                "responses": {
                    "200": {"description": "The projects, by id.", "content": {"application/json": {"schema": {"type": "object", "required": ["total", "projects"]}}}},
                    "400": problem("A parameter could not be read (an unknown stage or unit)."),
                    "503": problem("The investment_projects layer is not loaded."),
                },
            },
              "post": {
                "summary": "Register a new project (editors): proposed, with its site, facts and compliance check",
                "operationId": "createProject",
                "security": [{"basic": []}, {"bearer": []}],
                "requestBody": {"required": true, "content": {"application/json": {
                  "example": {"name": "Nhà máy may xuất khẩu", "function": "Công nghiệp",
                              "site": {"type": "Polygon", "coordinates": [[[108.1405, 16.0705], [108.142, 16.0705], [108.142, 16.072], [108.1405, 16.072], [108.1405, 16.0705]]]},
                              "proposal": {"use": "SKK", "floors": 3}},
                  "schema": {
                    "type": "object", "required": ["name", "function", "site"], "additionalProperties": false,
                    "properties": {
                        "name": {"type": "string", "minLength": 1, "maxLength": 300},
                        "function": {"type": "string", "minLength": 1, "maxLength": 300},
                        "investor": {"type": "string", "nullable": true, "minLength": 1, "maxLength": 300},
                        "capital_vnd": {"type": "integer", "minimum": 0, "nullable": true},
                        "capital_disbursed_vnd": {"type": "integer", "minimum": 0, "nullable": true},
                        "site": {"type": "object"},
                        "crs": {"type": "string"},
                        "proposal": {"type": "object"},
                        "date": {"type": "string", "format": "date", "nullable": true},
                        "decision": {"type": "string", "nullable": true, "minLength": 1, "maxLength": 300},
                        "authority": {"type": "string", "nullable": true, "minLength": 1, "maxLength": 300},
                        "note": {"type": "string", "nullable": true, "maxLength": 2000}}}}}},
                "responses": {
                    "201": {"description": "Written: the project, its first history row, and the check when a proposal was given.",
                            "content": {"application/json": {"schema": {"type": "object", "required": ["project", "transition"]}}}},
                    "400": problem("A member could not be read, or the site is not one valid polygon; nothing written."),
                    "401": problem("No valid editor credentials."),
                    "403": problem("The registry is not editable here."),
                    "503": problem("The check could not be stored, or the layer is not loaded."),
                },
            }},

            "/projects/{id}": {"get": {
                "summary": "One project: stage, allowed moves, the planning answer for its site, parcels, history",
                "operationId": "getProject",
                "parameters": [
                    {"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "format": "int64", "minimum": 1}, "example": 1},
                    as_of.clone(),
                ],
                "responses": {
                    "200": {"description": "The project.", "content": {"application/json": {"schema": {"type": "object", "required": ["fid", "allowed_next", "planning", "history"]}}}},
                    "400": problem("The id or a parameter could not be read."),
                    "404": problem("No such project."),
                    "503": problem("The investment_projects layer is not loaded."),
                },
            },
              "patch": {
                "summary": "Change a project's facts, site or proposal (editors); a new site or proposal runs the compliance check",
                "operationId": "patchProject",
                "security": [{"basic": []}, {"bearer": []}],
                "parameters": [
                    {"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "format": "int64", "minimum": 1}, "example": 1},
                ],
                "requestBody": {"required": true, "content": {"application/json": {
                  "example": {"capital_disbursed_vnd": 1000000000, "next_deadline": "2027-06-30"},
                  "schema": {
                    "type": "object", "additionalProperties": false, "minProperties": 1,
                    "properties": {
                        "name": {"type": "string", "minLength": 1, "maxLength": 300},
                        "investor": {"type": "string", "nullable": true, "minLength": 1, "maxLength": 300},
                        "function": {"type": "string", "minLength": 1, "maxLength": 300},
                        "capital_vnd": {"type": "integer", "minimum": 0},
                        "capital_disbursed_vnd": {"type": "integer", "minimum": 0},
                        "next_deadline": {"type": "string", "format": "date", "nullable": true},
                        "site": {"type": "object"},
                        "crs": {"type": "string"},
                        "proposal": {"type": "object"}}}}}},
                "responses": {
                    "200": {"description": "Written: the project, and the check when one ran.", "content": {"application/json": {"schema": {"type": "object", "required": ["project", "check"]}}}},
                    "400": problem("A member could not be read (or is the stage, which moves only by transitions); nothing written."),
                    "401": problem("No valid editor credentials."),
                    "403": problem("The registry is not editable here."),
                    "404": problem("No such project."),
                    "503": problem("The check could not be stored."),
                },
            }},

            "/projects/{id}/history": {"get": {
                "summary": "A project's legal procedure as recorded (append-only)",
                "operationId": "projectHistory",
                "parameters": [
                    {"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "format": "int64", "minimum": 1}, "example": 1},
                ],
                "responses": {
                    "200": {"description": "The history, oldest first.", "content": {"application/json": {"schema": {"type": "object", "required": ["project", "history"]}}}},
                    "400": problem("The id could not be read."),
                    "404": problem("No such project."),
                    "503": problem("The investment_projects layer is not loaded."),
                },
            }},
            "/projects/{id}/transitions": {"post": {
                "summary": "Move a project to its next stage (editors)",
                "operationId": "projectTransition",
                "security": [{"basic": []}, {"bearer": []}],
                "parameters": [
                    {"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "format": "int64", "minimum": 1}, "example": 1},
                ],
                "requestBody": {"required": true, "content": {"application/json": {
                  "example": {"to": "terminated", "date": "2026-01-05", "decision": "12/QĐ-UBND", "authority": "UBND thành phố Đà Nẵng"},
                  "schema": {
                    "type": "object", "required": ["to", "date"], "additionalProperties": false,
                    "properties": {
                        "to": {"type": "string"}, "date": {"type": "string", "format": "date"},
                        "decision": {"type": "string", "nullable": true}, "authority": {"type": "string", "nullable": true},
                        "note": {"type": "string", "nullable": true}, "next_deadline": {"type": "string", "format": "date", "nullable": true}}}}}},
                "responses": {
                    "201": {"description": "Written: the project and the history row.", "content": {"application/json": {"schema": {"type": "object", "required": ["project", "transition"]}}}},
                    "400": problem("The body could not be read, or the move lacks its decision or has a bad date; nothing written."),
                    "401": problem("No valid editor credentials."),
                    "403": problem("The registry is not editable here."),
                    "404": problem("No such project."),
                    "409": problem("The move is not allowed from the current stage; the allowed ones are listed."),
                },
            }},
            "/sites": {"get": {
                "summary": "Investor site search over zoning lots (planned use) or parcels (current use), ranked by a stated score",
                "description": "Filters combine (AND; comma lists are OR). Distances are straight lines in EPSG:5899 between exact geometries. The answer carries the URL that reproduces the search.",
                "operationId": "siteSearch",
                "parameters": [
                    {"name": "candidates", "in": "query", "schema": {"type": "string", "enum": ["lots", "parcels"], "default": "lots"}},
                    {"name": "function", "in": "query", "schema": {"type": "string"}, "example": "công nghiệp",
                     "description": "Planned functions of zoning lots (comma list; Vietnamese with or without diacritics, or industry, warehouse, commercial, mixed, residential …)."},
                    {"name": "use", "in": "query", "schema": {"type": "string"}, "example": "SKK",
                     "description": "Land-use codes (comma list); legacy codes are mapped to TT 08/2024."},
                    {"name": "min_area", "in": "query", "schema": {"type": "string"}, "example": "2ha", "description": "m², or with the suffix ha."},
                    {"name": "max_area", "in": "query", "schema": {"type": "string"}, "example": "10ha"},
                    {"name": "min_far", "in": "query", "schema": {"type": "number", "minimum": 0, "exclusiveMinimum": true, "maximum": 100}},
                    {"name": "min_floors", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
                    {"name": "in", "in": "query", "schema": {"type": "string"}, "example": "industrial",
                     "description": "industrial, economic, any-zone, or a zone's name."},
                    {"name": "near", "in": "query", "schema": {"type": "string"}, "example": "airport:30000",
                     "description": "<class or place>:<metres> (or km), repeatable: airport, seaport, national_road, centre, iz, economic_zone, border_gate …, a kind as the data spells it, or a place's name."},
                    {"name": "exclude", "in": "query", "schema": {"type": "string"}, "example": "projects",
                     "description": "projects, water[:metres], defence[:metres] (comma list)."},
                    {"name": "unit", "in": "query", "schema": {"type": "string"},
                     "description": "Administrative unit before or after 1 July 2025, code or name."},
                    as_of.clone(),
                    {"name": "sort", "in": "query", "schema": {"type": "string", "default": "score"},
                     "description": "score, area, or distance:<a near= class>."},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 20}},
                    {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
                    {"name": "f", "in": "query", "schema": {"type": "string", "enum": ["json", "geojson", "csv"]}},
                ],
                "responses": {
                    "200": {"description": "One page of sites with the facts and distances that qualified them, the total, the score formula, the reproducing URL.",
                            "content": {
                        "application/json": {"schema": {"type": "object", "required": ["total", "results", "score", "url"]}},
                        "application/geo+json": {"schema": {"type": "object", "required": ["type", "features"]}},
                        "text/csv": {"schema": {"type": "string"}}}},
                    "400": problem("A parameter could not be read: an unknown class, code, function or unit, an inverted range, an absurd distance."),
                    "503": problem("A layer the search needs is not loaded."),
                },
            }},
            "/planning/sheet": {"get": {
                "summary": "The planning information sheet of a parcel or point (PDF or HTML); each one issued is recorded",
                "operationId": "planningSheet",
                "parameters": [
                    {"name": "parcel", "in": "query", "schema": {"type": "integer", "format": "int64"}, "example": ex_or(&|e| e.fid.into())},
                    {"name": "point", "in": "query", "schema": {"type": "string"}},
                    {"name": "point-crs", "in": "query", "schema": {"type": "string"}},
                    as_of.clone(),
                    {"name": "f", "in": "query", "schema": {"type": "string", "enum": ["pdf", "html"]},
                     "description": "Format; else by Accept, PDF by default."},
                ],
                "responses": {
                    "200": {"description": "The sheet; its verification code also in X-Verification-Code.",
                            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}},
                                        "text/html": {"schema": {"type": "string"}}}},
                    "400": problem("A parameter could not be read."),
                    "404": problem("No such parcel."),
                    "503": problem("The sheet cannot be printed or recorded (fonts, store)."),
                },
            }},
            "/planning/sheet/verify/{code}": {"get": {
                "summary": "What a sheet's verification code was issued for",
                "operationId": "verifySheet",
                "parameters": [{"name": "code", "in": "path", "required": true,
                                "schema": {"type": "string"}, "description": "As printed (A2ZS0-5PPA8) or typed."}],
                "responses": {
                    "200": {"description": "The record as issued.", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["code", "issued_at", "intact", "sha256", "request", "answer"],
                        "properties": {"intact": {"type": "boolean"}, "answer": {"$ref": "#/components/schemas/PlanningInfo"}}}}}},
                    "400": problem("Not a verification code."),
                    "404": problem("No sheet was issued with that code."),
                    "503": problem("Records cannot be read."),
                },
            }},
        },
        "components": {
          "securitySchemes": {
            "basic": {"type": "http", "scheme": "basic", "description": "An editor of [ogc.users]."},
            "bearer": {"type": "http", "scheme": "bearer", "description": "An API key of [ogc.api_keys]."}},
          "schemas": {
            "Problem": {"type": "object", "required": ["status", "detail"], "properties": {
                "type": {"type": "string"}, "title": {"type": "string"},
                "status": {"type": "integer"}, "detail": {"type": "string"}}},
            "Source": {"type": "object", "required": ["layer", "fid"], "properties": {
                "layer": {"type": "string"}, "fid": {"type": "integer"},
                "decision": {"type": "string"}, "synthetic": {"type": "boolean"}}},
            "PlanningInfo": {"type": "object",
                "required": ["as_of", "subject", "admin_units", "land_use", "plans", "governing_plan",
                             "zoning_lots", "zones", "projects", "sources", "sliver_tolerance_m", "notes"],
                "properties": {
                    "as_of": {"type": "string", "format": "date"},
                    "subject": {"type": "object", "required": ["kind"], "properties": {
                        "kind": {"type": "string", "enum": ["parcel", "point", "site"]},
                        "area_m2": {"type": "number"}}},
                    "admin_units": {"type": "array", "items": {"type": "object",
                        "required": ["code", "name", "level", "source"]}},
                    "land_use": {"type": "array", "items": {"type": "object", "required": ["code", "name"]}},
                    "plans": {"type": "array", "items": {"type": "object",
                        "required": ["code", "name", "level", "status", "in_force", "governs", "source"],
                        "properties": {"in_force": {"type": "boolean"}, "governs": {"type": "boolean"},
                                       "share_pct": {"type": "number"}, "source": {"$ref": "#/components/schemas/Source"}}}},
                    "governing_plan": {"type": "string", "nullable": true},
                    "zoning_lots": {"type": "array", "items": {"type": "object",
                        "required": ["in_governing_plan", "lot_area_m2", "source"],
                        "properties": {"share_pct": {"type": "number"}, "max_gfa_m2": {"type": "number", "nullable": true},
                                       "source": {"$ref": "#/components/schemas/Source"}}}},
                    "zones": {"type": "array", "items": {"type": "object"}},
                    "projects": {"type": "array", "items": {"type": "object"}},
                    "sources": {"type": "array", "items": {"type": "object",
                        "required": ["layer", "published_at", "store_srid"]}},
                    "sliver_tolerance_m": {"type": "number"},
                    "notes": {"type": "array", "items": {"type": "string"}},
                }},
        }},
    })
}

/// `GET /api`.
pub async fn get(State(s): State<DataState>, headers: HeaderMap) -> Response {
    let doc = document(&base_url(&s, &headers), &s.config, &s.engine.snapshot());
    ([(header::CONTENT_TYPE, OPENAPI_JSON)], doc.to_string()).into_response()
}

"""OGC API - Features through OWSLib's `owslib.ogcapi.features.Features`.

Usage: oapif_owslib.py ROOT_URL EXPECTED_JSON

ROOT_URL is the landing page (with a trailing slash: OWSLib joins paths
with urljoin). EXPECTED_JSON, from the Rust side, holds the engine's
answers: {"collections": [...], "counts": {id: n}, "bbox": [w, s, e, n],
"bbox_count": n, "limit": n, "fid": n}. Every check asserts; the script
prints what it saw as JSON so the Rust test can compare too.
"""

import json
import sys

import requests
from owslib.ogcapi.features import Features

root, expected = sys.argv[1], json.loads(sys.argv[2])
api = Features(root)

rels = {link["rel"] for link in api.links}
for rel in ("self", "service-desc", "conformance", "data"):
    assert rel in rels, f"landing page lacks a {rel} link: {rels}"

openapi = api.api()
assert openapi["openapi"].startswith("3.0"), openapi["openapi"]

conf = api.conformance()["conformsTo"]
core = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
assert core in conf, conf

ids = api.feature_collections()
assert sorted(ids) == sorted(expected["collections"]), ids

seen = {"collections": ids, "counts": {}}
for cid in ids:
    c = api.collection(cid)
    bbox = c["extent"]["spatial"]["bbox"][0]
    assert bbox[0] < bbox[2] and bbox[1] < bbox[3], (cid, bbox)
    items = api.collection_items(cid, limit=1)
    assert items["type"] == "FeatureCollection", items
    seen["counts"][cid] = items["numberMatched"]
    assert items["numberMatched"] == expected["counts"][cid], (cid, items["numberMatched"])

limit = expected["limit"]
page = api.collection_items("parcels", bbox=expected["bbox"], limit=limit)
assert page["numberMatched"] == expected["bbox_count"], page["numberMatched"]
assert page["numberReturned"] == min(limit, expected["bbox_count"])
assert len(page["features"]) == page["numberReturned"]
seen["bbox_matched"] = page["numberMatched"]
seen["bbox_returned"] = page["numberReturned"]

# Follow the next links of the bbox query to the end: every feature once.
fids = [f["id"] for f in page["features"]]
nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
while nxt:
    r = requests.get(nxt[0], timeout=30)
    r.raise_for_status()
    p = r.json()
    fids += [f["id"] for f in p["features"]]
    nxt = [link["href"] for link in p["links"] if link["rel"] == "next"]
assert len(fids) == len(set(fids)) == expected["bbox_count"], (len(fids), len(set(fids)))
seen["bbox_paged"] = len(set(fids))

one = api.collection_item("parcels", str(expected["fid"]))
assert one["id"] == expected["fid"], one["id"]
seen["fid"] = one["id"]

q = api.collection_queryables("parcels")
assert "land_use_code" in q["properties"], q
seen["queryables"] = sorted(q["properties"])

print(json.dumps(seen))

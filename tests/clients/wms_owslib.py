"""WMS through OWSLib, as an agency script would use it.

Usage: wms_owslib.py BASE_URL OUT_DIR LON LAT MERC_X MERC_Y

Reads the capabilities in 1.3.0 and 1.1.1, draws 64x64 maps of the
parcels centred on the given point (EPSG:4326 in both versions, where
OWSLib itself applies 1.3.0's lat/lon order, and EPSG:3857) into OUT_DIR,
asks GetFeatureInfo at the centre pixel, and prints a JSON report on its
last line. The Rust test decodes the PNGs and checks the pixels.
"""
import json
import os
import sys

from owslib.wms import WebMapService

base, out, lon, lat, mx, my = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:7])
url = base + "/wms"
report = {}
for version in ("1.3.0", "1.1.1"):
    wms = WebMapService(url, version=version, timeout=60)
    assert wms.identification.type in ("WMS", "OGC:WMS"), wms.identification.type
    layers = sorted(wms.contents)
    parcels = wms["parcels"]
    assert "EPSG:4326" in parcels.crsOptions, parcels.crsOptions
    assert parcels.queryable == 1, parcels.queryable
    assert "default" in parcels.styles, parcels.styles
    report[version] = {"layers": layers}
    d = 0.0003
    img = wms.getmap(
        layers=["parcels"], styles=[""], srs="EPSG:4326",
        bbox=(lon - d, lat - d, lon + d, lat + d), size=(64, 64),
        format="image/png", transparent=True,
    )
    tag = version.replace(".", "")
    with open(os.path.join(out, f"{tag}_4326.png"), "wb") as f:
        f.write(img.read())

wms = WebMapService(url, version="1.3.0", timeout=60)
h = 32.0
img = wms.getmap(
    layers=["parcels"], styles=[""], srs="EPSG:3857",
    bbox=(mx - h, my - h, mx + h, my + h), size=(64, 64),
    format="image/png", transparent=True,
)
with open(os.path.join(out, "130_3857.png"), "wb") as f:
    f.write(img.read())
info = wms.getfeatureinfo(
    layers=["parcels"], styles=[""], srs="EPSG:3857",
    bbox=(mx - h, my - h, mx + h, my + h), size=(64, 64),
    format="image/png", query_layers=["parcels"], xy=(32, 32),
    info_format="text/plain", feature_count=1,
)
report["info"] = info.read().decode("utf-8")
print(json.dumps(report, ensure_ascii=False))

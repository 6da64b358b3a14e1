"""Real QGIS 3.22 (Debian's python3-qgis, headless) against a running geoplan:
WFS (2.0 and 1.1.0), OGC API - Features and WMS layers added the way the
"Add layer" dialogs do with default settings; counts and a parcel's coordinates compared with
the feature API. Then an edit session over WFS-T as an editor: one parcel's
address changed and its outline moved 1 m east, saved with commitChanges.
Prints `EDITED <commune> <sheet> <parcel> <address>` for the Rust side to
check the store and the engine. Land-use map images go to $GEOPLAN_QGIS_OUT
when set.

    /usr/bin/python3 qgis_check.py BASE_URL USER PASSWORD"""
import faulthandler, json, os, sys, urllib.request
# A crash inside QGIS prints the Python line it happened under.
faulthandler.enable()
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from qgis.core import (QgsApplication, QgsVectorLayer, QgsRasterLayer,
                       QgsFeatureRequest, QgsMapSettings, QgsMapRendererSequentialJob,
                       QgsCoordinateReferenceSystem, QgsRectangle)
from qgis.PyQt.QtCore import QSize
QgsApplication.setPrefixPath("/usr", True)
app = QgsApplication([], False)
app.initQgis()
from qgis.core import QgsMessageLog
# QGIS's own log (the WFS provider reports server exceptions there).
QgsApplication.messageLog().messageReceived.connect(
    lambda msg, tag, level: print(f"[qgis {tag}] {msg}", file=sys.stderr))
base, user, password = sys.argv[1], sys.argv[2], sys.argv[3]
want = json.load(urllib.request.urlopen(f"{base}/layers/parcels"))["feature_count"]
ok = True
def check(name, cond, detail=""):
    global ok
    ok &= bool(cond)
    print(("PASS " if cond else "FAIL ") + name + (f": {detail}" if detail else ""))

# WFS, as the dialog writes its URI with defaults (version auto, paging on).
wfs = QgsVectorLayer(f"pagingEnabled='true' restrictToRequestBBOX='0' typename='geoplan:parcels' url='{base}/wfs' version='auto'", "parcels", "WFS")
check("WFS layer valid", wfs.isValid(), "WFS provider")
n = sum(1 for _ in wfs.getFeatures())
check("WFS reads every parcel", n == want, f"{n} of {want}, CRS {wfs.crs().authid()}")
# WFS 1.1.0, as users of older QGIS and ArcGIS pick it: no paging in 1.1,
# so every parcel must come in one GetFeature (issue #11, finding 1).
wfs11 = QgsVectorLayer(f"restrictToRequestBBOX='0' typename='geoplan:parcels' url='{base}/wfs' version='1.1.0'", "parcels-1.1.0", "WFS")
check("WFS 1.1.0 layer valid", wfs11.isValid(), "WFS provider, version 1.1.0")
n11 = sum(1 for _ in wfs11.getFeatures())
check("WFS 1.1.0 reads every parcel", n11 == want, f"{n11} of {want}, CRS {wfs11.crs().authid()}")
# One parcel's vertices against the feature API in the layer's CRS.
f = next(wfs.getFeatures(QgsFeatureRequest().setFilterExpression("\"parcel_number\" IS NOT NULL").setLimit(1)))
epsg = wfs.crs().authid().split(":")[-1]
from urllib.parse import urlencode
q = urlencode({k: str(f[k]) for k in ("commune_code", "sheet_number", "parcel_number")} | {"crs": f"EPSG:{epsg}"})
api = json.load(urllib.request.urlopen(f"{base}/layers/parcels/features?{q}"))
check("the parcel key finds one parcel", api["numberMatched"] == 1, q)
geom = api["features"][0]["geometry"]
ring = geom["coordinates"][0][0] if geom["type"] == "MultiPolygon" else geom["coordinates"][0]
pts = [(p.x(), p.y()) for p in f.geometry().vertices()]
if epsg == "4326":
    ring = [(c[1], c[0]) for c in ring]
d = max(abs(a[0] - b[0]) + abs(a[1] - b[1]) for a, b in zip(pts, ring))
check("WFS parcel lands where the API says", len(pts) >= len(ring) and (d < 1e-6 if epsg == "4326" else d < 0.01), f"{len(pts)} vertices, max deviation {d:.2e} in EPSG:{epsg}")

# OGC API - Features with the landing page URL.
oapi = QgsVectorLayer(f"url='{base}/ogcapi' typename='parcels'", "parcels", "OAPIF")
check("OAPIF layer valid", oapi.isValid(), "OAPIF provider")
n = sum(1 for _ in oapi.getFeatures())
check("OAPIF reads every parcel", n == want, f"{n} of {want}")

# WMS: the root layer as the dialog adds it, rendered around Hội An.
wms = QgsRasterLayer(f"contextualWMSLegend=0&crs=EPSG:3857&dpiMode=7&featureCount=10&format=image/png&layers=parcels&styles=&url={base}/wms", "wms", "wms")
check("WMS layer valid", wms.isValid(), "WMS provider")
ms = QgsMapSettings()
ms.setLayers([wms]); ms.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
ms.setOutputSize(QSize(256, 256))
one = json.load(urllib.request.urlopen(f"{base}/layers/parcels/features?limit=1&crs=EPSG:3857"))["features"][0]
xs = [c[0] for c in one["geometry"]["coordinates"][0]] if one["geometry"]["type"] == "Polygon" else [c[0] for c in one["geometry"]["coordinates"][0][0]]
ys = [c[1] for c in one["geometry"]["coordinates"][0]] if one["geometry"]["type"] == "Polygon" else [c[1] for c in one["geometry"]["coordinates"][0][0]]
cx, cy = sum(xs) / len(xs), sum(ys) / len(ys)
ms.setExtent(QgsRectangle(cx - 150, cy - 150, cx + 150, cy + 150))
job = QgsMapRendererSequentialJob(ms); job.start(); job.waitForFinished()
img = job.renderedImage()
coloured = sum(1 for x in range(0, 256, 8) for y in range(0, 256, 8) if img.pixelColor(x, y).alpha() > 0)
check("WMS map renders parcels", coloured > 0, f"{coloured} of 1024 sampled pixels painted")
# The current land-use map at ward and commune scale (issue #11, finding 4):
# WMS views of a ward (3 km) and a commune (6 km) on 300 pixels, rendered
# by QGIS. The painted share must match the share of the view that parcels
# cover (from the feature API), in the legend's land-use colours.
from qgis.core import QgsJsonUtils, QgsGeometry
from qgis.PyQt.QtCore import QTextCodec
from qgis.PyQt.QtGui import QColor
style = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "styles", "planning.json")))
fill = next(l for l in style["layers"] if l["id"] == "parcels-fill")["paint"]["fill-color"]
legend = {fill[i]: tuple(int(fill[i + 1][k:k + 2], 16) for k in (1, 3, 5)) for i in range(2, len(fill) - 1, 2)}
out_dir = os.environ.get("GEOPLAN_QGIS_OUT")
def features(url):
    text = urllib.request.urlopen(url).read().decode("utf-8")
    codec = QTextCodec.codecForName("UTF-8")
    return QgsJsonUtils.stringToFeatureList(text, QgsJsonUtils.stringToFields(text, codec), codec)
for unit, half in (("20335", 1500.0), ("20359", 3000.0)):
    u = features(f"{base}/layers/admin_units/features?code={unit}&crs=EPSG:3857&limit=1")
    name = u[0]["name"] if u else unit
    at = u[0].geometry().pointOnSurface().asPoint()
    box = QgsRectangle(at.x() - half, at.y() - half, at.x() + half, at.y() + half)
    url = f"{base}/layers/parcels/features?bbox={box.xMinimum()},{box.yMinimum()},{box.xMaximum()},{box.yMaximum()}&bbox-crs=EPSG:3857&crs=EPSG:3857&limit=10000"
    clip = QgsGeometry.fromRect(box)
    by_code = {}
    for f in features(url):
        by_code[f["land_use_code"]] = by_code.get(f["land_use_code"], 0.0) + f.geometry().intersection(clip).area()
    coverage = sum(by_code.values()) / box.area()
    # Every code covering at least 0.3 % of the view (270 pixels) is drawn
    # in its legend colour (legacy codes share their group's colour).
    expected = {c for c, a in by_code.items() if a >= 0.003 * box.area() and c in legend}
    colour_name = {v: k for k, v in sorted(legend.items(), reverse=True)}
    ms = QgsMapSettings()
    ms.setLayers([wms]); ms.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    ms.setBackgroundColor(QColor(0, 0, 0, 0))
    ms.setOutputSize(QSize(300, 300)); ms.setExtent(box)
    job = QgsMapRendererSequentialJob(ms); job.start(); job.waitForFinished()
    img = job.renderedImage()
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        img.save(os.path.join(out_dir, f"landuse-{unit}.png"))
    painted, in_legend, codes = 0, 0, set()
    for x in range(300):
        for y in range(300):
            c = img.pixelColor(x, y)
            if c.alpha() == 0:
                continue
            painted += 1
            rgb = (c.red(), c.green(), c.blue())
            hit = next((v for v in legend.values() if all(abs(a - b) <= 6 for a, b in zip(rgb, v))), None)
            if hit:
                in_legend += 1; codes.add(hit)
    share = painted / 90000
    check(f"QGIS land-use map of {name} ({2 * half / 1000:.0f} km)",
          coverage > 0.01 and 0.6 * coverage <= share <= 1.6 * coverage and in_legend >= 0.7 * painted and len(expected) >= 1 and {legend[c] for c in expected} <= codes,
          f"painted {share:.1%} where parcels cover {coverage:.1%}; {in_legend} of {painted} in legend colours; colours of {sorted(colour_name[c] for c in codes)} drawn, codes expected {sorted(expected)}")
# An edit session, as QGIS's Toggle Editing / Save Layer Edits does it.
ed = QgsVectorLayer(f"pagingEnabled='true' restrictToRequestBBOX='0' typename='geoplan:parcels' url='{base}/wfs' version='auto' username='{user}' password='{password}'", "parcels-edit", "WFS")
check("WFS-T layer valid", ed.isValid(), "WFS provider with credentials")
from qgis.core import QgsVectorDataProvider
caps = ed.dataProvider().capabilities()
check("QGIS sees the layer as editable", bool(caps & QgsVectorDataProvider.ChangeAttributeValues) and bool(caps & QgsVectorDataProvider.ChangeGeometries))
# Read the layer to its end, as QGIS's attribute table does, before editing:
# an iterator abandoned after a few features leaves QGIS 3.22's background
# downloader running into the edit session.
target = None
for i, feature in enumerate(ed.getFeatures()):
    if i == 3:
        target = feature
new_address = "Số 7 đường Trần Phú, phường Minh An, Hội An (sửa trong QGIS)"
ed.startEditing()
ed.changeAttributeValue(target.id(), ed.fields().indexOf("address"), new_address)
g = target.geometry()
g.translate(1.0, 0.0)
ed.changeGeometry(target.id(), g)
saved = ed.commitChanges()
check("QGIS saves the edits", saved, "; ".join(ed.commitErrors()))
print("EDITED", target["commune_code"], target["sheet_number"], target["parcel_number"], new_address)
sys.stdout.flush()
os._exit(0 if ok else 1)  # PyQGIS 3.22 may crash in its own teardown

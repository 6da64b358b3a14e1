"""Real QGIS 3.22 (Debian's python3-qgis, headless) reads what an import
wrote: the parcels of one commune on sheets SHEET_MIN and up, through the
WFS provider as the "Add layer" dialog sets it up. Prints one line
`PARCEL {json}` per parcel: its key, address, land-use codes (current and
legacy) and its centroid in EPSG:5899 as QGIS computes it, for the Rust
side to compare with the file's truth.

    /usr/bin/python3 qgis_import_check.py BASE_URL COMMUNE SHEET_MIN"""
import json, os, sys
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from qgis.core import (QgsApplication, QgsVectorLayer, QgsFeatureRequest,
                       QgsCoordinateReferenceSystem, QgsCoordinateTransform,
                       QgsProject, NULL)
QgsApplication.setPrefixPath("/usr", True)
app = QgsApplication([], False)
app.initQgis()
QgsApplication.messageLog().messageReceived.connect(
    lambda msg, tag, level: print(f"[qgis {tag}] {msg}", file=sys.stderr))
base, commune, sheet_min = sys.argv[1], sys.argv[2], int(sys.argv[3])
wfs = QgsVectorLayer(f"pagingEnabled='true' restrictToRequestBBOX='0' typename='geoplan:parcels' url='{base}/wfs' version='auto'", "parcels", "WFS")
if not wfs.isValid():
    print("FAIL the WFS layer is not valid")
    sys.exit(1)
to_5899 = QgsCoordinateTransform(wfs.crs(), QgsCoordinateReferenceSystem("EPSG:5899"), QgsProject.instance())
request = QgsFeatureRequest().setFilterExpression(
    f"\"commune_code\" = '{commune}' AND \"sheet_number\" >= {sheet_min}")
keys = ("commune_code", "sheet_number", "parcel_number", "address",
        "land_use_code", "land_use_code_old")
for f in wfs.getFeatures(request):
    g = f.geometry()
    g.transform(to_5899)
    c = g.centroid().asPoint()
    row = {k: (None if f[k] == NULL else f[k]) for k in keys}
    row.update(x=c.x(), y=c.y(), crs=wfs.crs().authid())
    print("PARCEL " + json.dumps(row, ensure_ascii=False))

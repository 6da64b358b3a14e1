"""OWSLib against geoplan's WFS, as tests/wfs.rs runs it.

    python wfs_owslib.py http://127.0.0.1:PORT/wfs MINLON,MINLAT,MAXLON,MAXLAT

For WFS 2.0.0 and 1.1.0: the layers the capabilities list, the parcels in
the box (one GetFeature, CRS given as the EPSG:4326 URN, so OWSLib itself
swaps the box to latitude first), and the same parcels paged 25 at a time
with STARTINDEX. Prints one JSON line; the Rust test compares it with the
engine.
"""

import json
import sys

from lxml import etree
from owslib.wfs import WebFeatureService

GML_IDS = ("{http://www.opengis.net/gml/3.2}id", "{http://www.opengis.net/gml}id", "fid")


def fids(data):
    """The fids of the features of a GML collection, in document order."""
    root = etree.fromstring(data.read())
    out = []
    for member in root:
        if etree.QName(member).localname not in ("member", "featureMember"):
            continue
        for feature in member:
            fid = next(feature.get(k) for k in GML_IDS if feature.get(k))
            layer, num = fid.rsplit(".", 1)
            assert layer == etree.QName(feature).localname, fid
            out.append(int(num))
    return out


def main():
    url, box = sys.argv[1], [float(v) for v in sys.argv[2].split(",")]
    bbox = (box[0], box[1], box[2], box[3], "urn:ogc:def:crs:EPSG::4326")
    result = {}
    for version in ("2.0.0", "1.1.0"):
        wfs = WebFeatureService(url, version=version, timeout=120)
        assert wfs.identification.type == "WFS", wfs.identification.type
        layers = list(wfs.contents)
        parcels = wfs.contents["geoplan:parcels"]
        assert any("5899" in str(c) for c in parcels.crsOptions), parcels.crsOptions
        one = fids(
            wfs.getfeature(
                typename=["geoplan:parcels"],
                bbox=bbox,
                maxfeatures=100000,
                srsname="urn:ogc:def:crs:EPSG::4326",
            )
        )
        paged, start = [], 0
        while True:
            page = fids(
                wfs.getfeature(
                    typename=["geoplan:parcels"],
                    bbox=bbox,
                    maxfeatures=25,
                    startindex=start,
                    srsname="urn:ogc:def:crs:EPSG::4326",
                )
            )
            paged.extend(page)
            if len(page) < 25:
                break
            start += 25
        result[version] = {"layers": layers, "bbox_fids": one, "paged_fids": paged}
    print(json.dumps(result))


if __name__ == "__main__":
    main()

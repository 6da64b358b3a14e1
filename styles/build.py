#!/usr/bin/env python3
"""Writes styles/planning.json, the MapLibre style of the planning map.

    python3 styles/build.py          # regenerate after changing this file
                                     # or data/sources/landuse_codes.csv

Land-use colours come from data/sources/landuse_codes.csv (RGB of TT 27/2018
as published; legacy codes keep theirs). A code without a usable colour
takes its group's colour: the colour most of the group's codes share.
tests/styles.rs checks the committed style against the CSV, so the two
cannot drift apart. Python standard library only.
"""
import csv
import json
import os
import re
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Every layer the style shows, in one vector source (one TileJSON).
LAYERS = [
    "admin_units", "water", "industrial_zones", "zoning_lots", "parcels",
    "investment_projects", "roads", "pois",
]
FONT = ["DejaVu Sans"]
FONT_BOLD = ["DejaVu Sans Bold"]


def rgb(text):
    """'255;252;140' (possibly with a '?' or a note after it) -> '#fffc8c'."""
    m = re.match(r"\s*(\d+);(\d+);(\d+)", text or "")
    if not m:
        return None
    return "#%02x%02x%02x" % tuple(int(v) for v in m.groups())


def landuse_rows():
    return list(csv.DictReader(open(os.path.join(ROOT, "data/sources/landuse_codes.csv"), encoding="utf-8")))


def landuse_colours():
    rows = list(csv.DictReader(open(os.path.join(ROOT, "data/sources/landuse_codes.csv"), encoding="utf-8")))
    by_group = {}
    for r in rows:
        c = rgb(r["rgb_tt27_2018"])
        if c:
            by_group.setdefault(r["group"], []).append(c)
    group_colour = {g: Counter(cs).most_common(1)[0][0] for g, cs in by_group.items()}
    colours = {}
    for r in rows:
        c = rgb(r["rgb_tt27_2018"]) or group_colour[r["group"]]
        for code in r["code"].split("/"):
            colours[code.strip()] = c
    return colours, group_colour


def main():
    colours, groups = landuse_colours()
    landuse = ["match", ["get", "land_use_code"]]
    for code in sorted(colours):
        landuse += [code, colours[code]]
    landuse.append("#e0e0e0")

    zoning = ["match", ["get", "function"],
              "Đất ở mới", "#f7c16a",
              "Đất ở hiện trạng cải tạo", "#f5d99a",
              "Đất hỗn hợp", "#e8a06a",
              "Đất thương mại dịch vụ", "#e5637a",
              "Đất công cộng", "#f29fb4",
              "Đất giáo dục", "#f3a66e",
              "Đất y tế", "#ee7d7d",
              "Đất cây xanh", "#9ed68b",
              "Đất cây xanh công viên", "#7cc46b",
              "#cccccc"]
    project_status = ["match", ["get", "status"],
                      "đang kêu gọi", "#2b8cbe",
                      "đã đăng ký", "#7b3294",
                      "đã phê duyệt", "#1a9850",
                      "đang xây dựng", "#fdae61",
                      "đang hoạt động", "#4d4d4d",
                      "đã thu hồi", "#d7191c",
                      "#999999"]
    road_width = ["match", ["get", "road_class"],
                  "đường cao tốc", 3.5, "quốc lộ", 3, "tỉnh lộ", 2, "đường đô thị", 1.6, 1.2]
    road_colour = ["match", ["get", "road_class"],
                   "đường cao tốc", "#e0592a", "quốc lộ", "#f08c3a", "tỉnh lộ", "#f6c86b", "#ffffff"]

    style = {
        "version": 8,
        "name": "geoplan — bản đồ quy hoạch",
        "metadata": {
            "geoplan:legend": {
                "title": "Mã loại đất",
                "landuse_groups": groups,
                "landuse": {code.strip(): {"name": r["name_vi"], "group": r["group"], "colour": colours[code.strip()]}
                            for r in landuse_rows() for code in r["code"].split("/")},
            },
        },
        "center": [108.22, 16.03],
        "zoom": 11,
        "glyphs": "/fonts/{fontstack}/{range}.pbf",
        "sources": {
            "geoplan": {"type": "vector", "url": "/tiles/" + ",".join(LAYERS) + ".json"},
        },
        "layers": [
            {"id": "background", "type": "background", "paint": {"background-color": "#f4f1ea"}},
            {"id": "admin-fill", "type": "fill", "source": "geoplan", "source-layer": "admin_units",
             "filter": ["==", ["get", "level"], "province"],
             "paint": {"fill-color": "#efeadf", "fill-opacity": 1}},
            {"id": "industrial-zones", "type": "fill", "source": "geoplan", "source-layer": "industrial_zones",
             "paint": {"fill-color": "#b98ed6", "fill-opacity": 0.35, "fill-outline-color": "#7e4fa3"}},
            {"id": "zoning-lots", "type": "fill", "source": "geoplan", "source-layer": "zoning_lots",
             "maxzoom": 16,
             "paint": {"fill-color": zoning, "fill-opacity": ["interpolate", ["linear"], ["zoom"], 10, 0.85, 15, 0.45],
                       "fill-outline-color": "#8a6d3b"}},
            {"id": "parcels-fill", "type": "fill", "source": "geoplan", "source-layer": "parcels",
             "minzoom": 11,
             "paint": {"fill-color": landuse, "fill-opacity": 0.9}},
            {"id": "parcels-line", "type": "line", "source": "geoplan", "source-layer": "parcels",
             "minzoom": 15,
             "paint": {"line-color": "#7a5c3e", "line-width": ["interpolate", ["linear"], ["zoom"], 15, 0.3, 19, 1.2]}},
            {"id": "water", "type": "line", "source": "geoplan", "source-layer": "water",
             "layout": {"line-cap": "round", "line-join": "round"},
             "paint": {"line-color": "#6fb3e0", "line-width": ["interpolate", ["linear"], ["zoom"], 8, 1.5, 14, 6]}},
            {"id": "roads", "type": "line", "source": "geoplan", "source-layer": "roads",
             "layout": {"line-cap": "round", "line-join": "round"},
             "paint": {"line-color": road_colour, "line-width": road_width}},
            {"id": "investment-projects", "type": "fill", "source": "geoplan", "source-layer": "investment_projects",
             "paint": {"fill-color": project_status, "fill-opacity": 0.45, "fill-outline-color": project_status}},
            {"id": "admin-district-line", "type": "line", "source": "geoplan", "source-layer": "admin_units",
             "filter": ["==", ["get", "level"], "district"],
             "paint": {"line-color": "#8c6bb1", "line-width": 1, "line-dasharray": [4, 2]}},
            {"id": "admin-province-line", "type": "line", "source": "geoplan", "source-layer": "admin_units",
             "filter": ["==", ["get", "level"], "province"],
             "paint": {"line-color": "#54278f", "line-width": 2}},
            {"id": "pois", "type": "circle", "source": "geoplan", "source-layer": "pois",
             "paint": {"circle-radius": 4, "circle-color": "#d94801", "circle-stroke-color": "#ffffff", "circle-stroke-width": 1}},
            {"id": "parcels-label", "type": "symbol", "source": "geoplan", "source-layer": "parcels",
             "minzoom": 17,
             "layout": {"text-field": ["concat", ["to-string", ["get", "parcel_number"]], "/",
                                       ["to-string", ["round", ["get", "legal_area"]]], "/",
                                       ["get", "land_use_code"]],
                        "text-font": FONT, "text-size": 10},
             "paint": {"text-color": "#3b2a1a", "text-halo-color": "#ffffff", "text-halo-width": 1}},
            {"id": "roads-label", "type": "symbol", "source": "geoplan", "source-layer": "roads",
             "minzoom": 12,
             "layout": {"symbol-placement": "line", "text-field": ["get", "name"], "text-font": FONT, "text-size": 11},
             "paint": {"text-color": "#5a3d1c", "text-halo-color": "#ffffff", "text-halo-width": 1.2}},
            {"id": "pois-label", "type": "symbol", "source": "geoplan", "source-layer": "pois",
             "minzoom": 10,
             "layout": {"text-field": ["get", "name"], "text-font": FONT, "text-size": 11,
                        "text-offset": [0, 1.2], "text-anchor": "top"},
             "paint": {"text-color": "#7f2704", "text-halo-color": "#ffffff", "text-halo-width": 1.2}},
            {"id": "admin-label", "type": "symbol", "source": "geoplan", "source-layer": "admin_units",
             "filter": ["==", ["get", "level"], "district"], "maxzoom": 13,
             "layout": {"text-field": ["get", "name"], "text-font": FONT_BOLD, "text-size": 13},
             "paint": {"text-color": "#54278f", "text-halo-color": "#ffffff", "text-halo-width": 1.5}},
        ],
    }
    with open(os.path.join(HERE, "planning.json"), "w", encoding="utf-8") as f:
        json.dump(style, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()

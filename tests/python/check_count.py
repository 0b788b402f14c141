"""Reads a pixmo `count` or `points` dataset with pyarrow (a second, independent Parquet
reader), decodes every image with Pillow and checks PixMo-Count's and PixMo-Points' rules:
hashes and sizes, `count` equal to the number of points, and each dataset's point unit
(PIXMO_DATA.md §3.5): `count` in pixels of the row's image (0-width, 0-height, one decimal;
field metadata unit=pixels), `points` in percent (0-100, one decimal; unit=percent) with a
`collection_method`. For rows made from detections, the detector is named in provenance.
With Hugging Face `datasets` installed, also loads the folder with
`load_dataset("parquet", ...)`, checks that `image` decodes and that the points read back
are the ones pyarrow read.

Usage: python3 check_count.py OUT/count   (or OUT/points)
"""

import glob
import hashlib
import io
import json
import os
import sys

import pyarrow.parquet as pq
from PIL import Image

root = sys.argv[1]
manifest = json.load(open(os.path.join(root, "manifest.json")))
common = {"image", "image_sha256", "width", "height", "provenance"}
layouts = {
    "count": ({"id", "image_url", "count", "points", "label"}, b"pixels"),
    "points": ({"id", "image_url", "points", "count", "label", "collection_method"}, b"percent"),
}
rows = 0
above_100 = 0
dataset = None
detectors = set()
first_points = {}
for split, info in manifest["splits"].items():
    files = sorted(glob.glob(os.path.join(root, split, "part-*.parquet")))
    assert len(files) == len(info["shards"]), (split, files)
    for path in files:
        table = pq.read_table(path)
        name = table.schema.metadata[b"pixmo.dataset"].decode()
        assert dataset in (None, name), (dataset, name)
        dataset = name
        columns, unit = layouts[name]
        assert set(table.schema.names) == columns | common, table.schema.names
        meta = table.schema.field("points").metadata
        assert meta[b"unit"] == unit, meta
        for row in table.to_pylist():
            data = row["image"]["bytes"]
            assert hashlib.sha256(data).hexdigest() == row["image_sha256"]
            img = Image.open(io.BytesIO(data))
            img.load()
            assert img.size == (row["width"], row["height"]), (img.size, row["width"])
            assert row["count"] == len(row["points"]), row["id"]
            limits = (row["width"], row["height"]) if unit == b"pixels" else (100, 100)
            for p in row["points"]:
                for v, top in zip((p["x"], p["y"]), limits):
                    assert 0 <= v <= top and round(v, 1) == v, (row["id"], p, unit)
                    above_100 += v > 100
            if name == "points":
                assert row["collection_method"] in ("pointing", "counting"), row["id"]
            first_points.setdefault(split, (row["id"], row["points"]))
            prov = row["provenance"]
            assert prov["vlm_free"] is True
            for m in prov["models"]:
                if m["kind"] == "detector":
                    detectors.add(m["name"])
            rows += 1
assert rows == manifest["total_rows"], (rows, manifest["total_rows"])
print("dataset:", dataset, "unit:", layouts[dataset][1].decode())
print("points above 100:", above_100)
print("detectors:", ", ".join(sorted(detectors)) or "none")

try:
    import datasets  # noqa: F401
except ImportError:
    datasets = None
if datasets is not None:
    ds = datasets.load_dataset("parquet", data_dir=root)
    loaded = 0
    for split in ds:
        first = ds[split][0]
        assert hasattr(first["image"], "size"), type(first["image"])
        assert first["image"].size == (first["width"], first["height"])
        assert first["count"] == len(first["points"])
        # `datasets` names `val` `validation`.
        folder = "val" if split == "validation" else split
        if folder in first_points and first_points[folder][0] == first["id"]:
            assert first["points"] == first_points[folder][1], (first["points"], first_points[folder])
        loaded += len(ds[split])
    assert loaded == rows, (loaded, rows)
    print("datasets: splits", ", ".join(sorted(ds)), "; image decodes as", type(first["image"]).__name__)
print(f"checked {rows} rows")

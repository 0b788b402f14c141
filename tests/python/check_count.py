"""Reads a pixmo `count` dataset with pyarrow (a second, independent Parquet reader),
decodes every image with Pillow and checks PixMo-Count's rules: hashes and sizes, `count`
equal to the number of points, points in percent (0-100, one decimal) and, for rows made
from detections, the detector named in provenance. With Hugging Face `datasets` installed,
also loads the folder with `load_dataset("parquet", ...)` and checks that `image` decodes.

Usage: python3 check_count.py OUT/count
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
expected = {
    "id", "image_url", "count", "points", "label",
    "image", "image_sha256", "width", "height", "provenance",
}
rows = 0
detectors = set()
for split, info in manifest["splits"].items():
    files = sorted(glob.glob(os.path.join(root, split, "part-*.parquet")))
    assert len(files) == len(info["shards"]), (split, files)
    for path in files:
        table = pq.read_table(path)
        assert set(table.schema.names) == expected, table.schema.names
        unit = table.schema.field("points").metadata[b"unit"]
        assert unit == b"percent", unit
        for row in table.to_pylist():
            data = row["image"]["bytes"]
            assert hashlib.sha256(data).hexdigest() == row["image_sha256"]
            img = Image.open(io.BytesIO(data))
            img.load()
            assert img.size == (row["width"], row["height"]), (img.size, row["width"])
            assert row["count"] == len(row["points"]), row["id"]
            for p in row["points"]:
                for v in (p["x"], p["y"]):
                    assert 0 <= v <= 100 and round(v, 1) == v, (row["id"], p)
            prov = row["provenance"]
            assert prov["vlm_free"] is True
            for m in prov["models"]:
                if m["kind"] == "detector":
                    detectors.add(m["name"])
            rows += 1
assert rows == manifest["total_rows"], (rows, manifest["total_rows"])
print("detectors:", ", ".join(sorted(detectors)) or "none")

try:
    import datasets  # noqa: F401
except ImportError:
    datasets = None
if datasets is not None:
    ds = datasets.load_dataset("parquet", data_dir=root)
    split = next(iter(ds))
    first = ds[split][0]
    assert hasattr(first["image"], "size"), type(first["image"])
    assert first["image"].size == (first["width"], first["height"])
    assert first["count"] == len(first["points"])
    print("datasets: splits", ", ".join(sorted(ds)), "; image decodes as", type(first["image"]).__name__)
print(f"checked {rows} rows")

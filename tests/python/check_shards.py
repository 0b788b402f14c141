"""Reads pixmo shards with pyarrow (a second, independent Parquet reader), decodes every
image with Pillow and checks hashes, sizes, labels and provenance. With Hugging Face
`datasets` installed, also loads the folder with `load_dataset("parquet", ...)` and checks
that `image` decodes as an image without custom code.

Usage: python3 check_shards.py OUT/clocks
"""

import glob
import hashlib
import io
import json
import os
import re
import sys

import pyarrow.parquet as pq
from PIL import Image

root = sys.argv[1]
manifest = json.load(open(os.path.join(root, "manifest.json")))
expected = {
    "example_id", "watchface_id", "watchface_name", "watch_time", "time_format",
    "shows_seconds", "hour_visible", "minute_visible", "second_visible", "text",
    "question", "answer", "image", "image_sha256", "width", "height", "provenance",
}
rows = 0
for split, info in manifest["splits"].items():
    files = sorted(glob.glob(os.path.join(root, split, "part-*.parquet")))
    assert len(files) == len(info["shards"]), (split, files)
    for path in files:
        table = pq.read_table(path)
        assert set(table.schema.names) == expected, table.schema.names
        meta = pq.read_metadata(path).metadata
        features = json.loads(meta[b"huggingface"])["info"]["features"]
        assert features["image"] == {"_type": "Image"}, features["image"]
        for row in table.to_pylist():
            data = row["image"]["bytes"]
            assert hashlib.sha256(data).hexdigest() == row["image_sha256"]
            img = Image.open(io.BytesIO(data))
            img.load()
            assert img.size == (row["width"], row["height"]), (img.size, row["width"])
            hh, mm, ss = (int(x) for x in row["watch_time"].split(":"))
            if row["hour_visible"] and row["minute_visible"]:
                m = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", row["text"])
                assert m, row["text"]
                assert int(m.group(1)) == (hh % 12 or 12) and int(m.group(2)) == mm
                assert row["text"] in row["answer"]
            prov = row["provenance"]
            assert prov["vlm_free"] is True
            assert prov["run_id"] == manifest["run"]["run_id"]
            assert [s["kind"] for s in prov["stages"]][:2] == ["clocks.sample", "clocks.render"]
            assert prov["created_at"].year == 2026
            rows += 1
assert rows == manifest["total_rows"], (rows, manifest["total_rows"])

try:
    import datasets  # noqa: F401
except ImportError:
    datasets = None
if datasets is not None:
    ds = datasets.load_dataset("parquet", data_dir=root)
    first = ds["train"][0]
    assert hasattr(first["image"], "size"), type(first["image"])
    assert first["image"].size == (first["width"], first["height"])
    print("datasets: image decodes as", type(first["image"]).__name__)
print(f"checked {rows} rows")

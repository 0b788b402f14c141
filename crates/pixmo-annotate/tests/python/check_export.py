"""Reads an annotate export with Hugging Face `datasets` and pyarrow, independently of Rust.

Usage: check_export.py OUT  (prints one line per check; exits non-zero on failure)
"""

import sys
from pathlib import Path

import datasets
import pyarrow.parquet as pq

out = Path(sys.argv[1])


def load(name):
    files = sorted(str(p) for p in (out / name / "train").glob("*.parquet"))
    return datasets.load_dataset("parquet", data_files=files, split="train")


points = load("points")
assert points.features["image"].__class__.__name__ == "Image", points.features
row = points[0]
assert row["image"].size == (row["width"], row["height"]), (row["image"].size, row["width"])
assert all(0.0 <= p["x"] <= 100.0 and 0.0 <= p["y"] <= 100.0 for r in points for p in r["points"])
assert all(r["count"] == len(r["points"]) for r in points)
assert all(r["provenance"]["vlm_free"] for r in points)
print(f"points: {len(points)} rows, images decode")

ama = load("ask_model_anything")
assert ama[0]["image"].size == (ama[0]["width"], ama[0]["height"])
models = {m["kind"] for r in ama for m in r["provenance"]["models"]}
assert "llm-text" in models, models
print(f"ask_model_anything: {len(ama)} rows, models {sorted(models)}")

trail = pq.read_table(out / "ask_model_anything_trail" / "train").to_pylist()
rows = pq.read_table(out / "ask_model_anything" / "train", columns=["id", "answer"]).to_pylist()
for r in rows:
    turns = [t for t in trail if t["row_id"] == r["id"]]
    kinds = [t["kind"] for t in turns]
    assert kinds[0] == "question" and kinds[-1] == "accept", kinds
    assert turns[-1]["text"] == r["answer"]
pe = load("point_explanations")
assert pe[0]["image"].size == (pe[0]["width"], pe[0]["height"])
citations = 0
for r in pe:
    n = r["parsed_response"].count("<|POINT|>")
    assert n >= 1 and n == len(r["alt_text"]) == len(r["inline_text"]) == len(r["points"]), r
    for group in r["points"]:
        assert group, r
        for p in group:
            for v in (p["x"], p["y"]):
                assert 0.0 <= v <= 100.0 and abs(v * 10 - round(v * 10)) < 1e-9, p
    assert r["provenance"]["vlm_free"], r["provenance"]
    citations += n
print(f"point_explanations: {len(pe)} rows, {citations} citations, points in percent")
pe_trail = pq.read_table(out / "point_explanations_trail" / "train").to_pylist()
for r in pe:
    kinds = [t["kind"] for t in pe_trail if t["row_id"] == r["id"]]
    assert kinds[0] == "question" and kinds[-1] == "accept" and "send_back" in kinds, kinds

annotations = pq.read_table(out / "annotations" / "train").to_pylist()
assert {a["row_id"] for a in annotations} == (
    {r["id"] for r in rows} | {r["id"] for r in points} | {r["id"] for r in pe}
)
print(f"trail: {len(trail)} turns joined on row_id; annotations: {len(annotations)} rows")

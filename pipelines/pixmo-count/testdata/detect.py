"""Runs OpenCV's Haar cascade detectors once over photographs that scikit-image's wheel
ships, and writes what they found in the COCO results format (`haar/detections.json`) with
the COCO-style image and category list (`haar/images.json`).

This is how `haar/` was made; `pixmo build count-detections` reads it (see ../README.md).
Exact versions used:

    python 3.11.7
    scikit-image==0.25.2   (the photographs: skimage/data/*, pinned by SHA-256 below)
    opencv-python-headless==4.14.0  (cv2.CascadeClassifier and cv2.data.haarcascades/*.xml)
    numpy==2.4.6

Run: python detect.py  (from this folder; writes haar/)
"""

import hashlib
import json
import os

import cv2
import numpy as np
import skimage

SKIMAGE_DATA = os.path.join(os.path.dirname(skimage.__file__), "data")

# (file in skimage/data, licence as scikit-image documents it)
PHOTOS = [
    ("astronaut.png", "public domain (NASA portrait of Eileen Collins, via scikit-image)"),
    ("camera.png", "CC0-1.0 (the cameraman, via scikit-image)"),
    ("chelsea.png", "CC0-1.0 (Chelsea the cat, by Stefan van der Walt, via scikit-image)"),
    ("coffee.png", "CC0-1.0 (coffee cup, by Rachel Michetti, via scikit-image)"),
    ("coins.png", "no known copyright restrictions (Brooklyn Museum, via scikit-image)"),
    ("rocket.jpg", "public domain (SpaceX Falcon 9 launch pad, via scikit-image)"),
    ("horse.png", "CC0-1.0 (openclipart, Andreas Preuss, via scikit-image)"),
    ("text.png", "public domain (Wikipedia File:Corner.png, via scikit-image)"),
    ("clock_motion.png", "public domain (Stefan van der Walt, via scikit-image)"),
    ("gravel.png", "CC0-1.0 (CC0Textures Gravel04, via scikit-image)"),
    ("grass.png", "CC0-1.0 (DeviantArt linolafett Grass-01, via scikit-image)"),
    ("brick.png", "CC0-1.0 (CC0Textures Bricks25, via scikit-image)"),
    ("hubble_deep_field.jpg", "public domain (NASA, HubbleSite, via scikit-image)"),
    ("microaneurysms.png", "CC0-1.0 (Andreas Maier, via scikit-image)"),
]

# COCO category id -> (name, cascade file in cv2.data.haarcascades)
CATEGORIES = {
    1: ("face", "haarcascade_frontalface_default.xml"),
    2: ("eye", "haarcascade_eye.xml"),
    3: ("cat face", "haarcascade_frontalcatface.xml"),
    4: ("profile face", "haarcascade_profileface.xml"),
    5: ("upper body", "haarcascade_upperbody.xml"),
    6: ("full body", "haarcascade_fullbody.xml"),
}

# detectMultiScale3 settings; the score of a box is its level weight.
SCALE_FACTOR = 1.1
MIN_NEIGHBORS = 3


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(here, "haar")
    os.makedirs(out, exist_ok=True)
    cascades = {
        cid: cv2.CascadeClassifier(os.path.join(cv2.data.haarcascades, xml))
        for cid, (_, xml) in CATEGORIES.items()
    }
    images, detections = [], []
    for image_id, (name, licence) in enumerate(PHOTOS, start=1):
        path = os.path.join(SKIMAGE_DATA, name)
        grey = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        height, width = grey.shape
        images.append(
            {
                "id": image_id,
                "file_name": "images/" + name,
                "width": width,
                "height": height,
                "sha256": sha256(path),
                "license": licence,
                "wheel_member": "skimage/data/" + name,
            }
        )
        for cid in sorted(cascades):
            boxes, _, weights = cascades[cid].detectMultiScale3(
                grey,
                scaleFactor=SCALE_FACTOR,
                minNeighbors=MIN_NEIGHBORS,
                outputRejectLevels=True,
            )
            weights = np.asarray(weights, dtype=float).ravel()
            for (x, y, w, h), score in zip(np.asarray(boxes).reshape(-1, 4), weights):
                detections.append(
                    {
                        "image_id": image_id,
                        "category_id": cid,
                        "bbox": [int(x), int(y), int(w), int(h)],
                        "score": round(float(score), 4),
                    }
                )
    meta = {
        "info": {
            "description": "OpenCV Haar cascades on scikit-image's sample photographs",
            "made_by": "pipelines/pixmo-count/testdata/detect.py",
        },
        "detector": {
            "name": "opencv-haar-cascades",
            "version": "opencv-python-headless " + cv2.__version__,
            "parameters": {"scale_factor": SCALE_FACTOR, "min_neighbors": MIN_NEIGHBORS},
        },
        "images": images,
        "categories": [{"id": cid, "name": n} for cid, (n, _) in sorted(CATEGORIES.items())],
    }
    with open(os.path.join(out, "images.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    with open(os.path.join(out, "detections.json"), "w") as f:
        f.write("[\n")
        f.write(",\n".join(json.dumps(d) for d in detections))
        f.write("\n]\n")


if __name__ == "__main__":
    main()

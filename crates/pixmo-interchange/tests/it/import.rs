//! Existing annotations from the tools as PixMo-Points rows, with rejects.

use pixmo_interchange::{Import, RejectKind, coco, cvat, label_studio};

use crate::{CVAT_EXPORT, LS_EXPORT};

const COCO: &str = include_str!("../fixtures/coco_person_keypoints.json");

fn kinds(import: &Import) -> Vec<RejectKind> {
    import.rejects.iter().map(|r| r.kind).collect()
}

fn row<'i>(import: &'i Import, image: &str, label: &str) -> &'i pixmo_interchange::ImportedPoints {
    import
        .rows
        .iter()
        .find(|r| r.image.ends_with(image) && r.label == label)
        .unwrap_or_else(|| panic!("no row for {image} {label}: {import:#?}"))
}

#[test]
fn label_studio_keypoints_become_rows() {
    let import = label_studio::import_points(LS_EXPORT.as_bytes()).unwrap();
    assert_eq!(import.rows.len(), 2, "{import:#?}");
    let cups = row(&import, "count-000017.jpg", "cup");
    assert_eq!(cups.points.len(), 3);
    assert_eq!((cups.points[1].x(), cups.points[1].y()), (320.0, 240.0));
    assert_eq!(cups.annotator.as_deref(), Some("7"));
    assert_eq!(cups.at, "task 101, annotation 201, label `cup`");
    let birds = row(&import, "count-000042.jpg", "bird");
    assert_eq!((birds.points[1].x(), birds.points[1].y()), (320.0, 360.0));
    assert_eq!(kinds(&import), [RejectKind::Cancelled]);
    assert_eq!(import.rejects[0].at, "task 102, annotation 203");

    let bad = LS_EXPORT
        .replacen("\"x\": 50.0, \"y\": 50.0", "\"x\": 150.0, \"y\": 50.0", 1)
        .replacen("\"x\": 40.0, \"y\": 60.0", "\"x\": 25.0, \"y\": 25.0", 1)
        .replacen("\"type\": \"choices\",\n            \"origin\": \"manual\"\n          }\n        ],\n        \"was_cancelled\": false,\n        \"ground_truth\": false,\n        \"created_at\": \"2026-12-02T10:21", "\"type\": \"rectanglelabels\",\n            \"origin\": \"manual\"\n          }\n        ],\n        \"was_cancelled\": false,\n        \"ground_truth\": false,\n        \"created_at\": \"2026-12-02T10:21", 1);
    let import = label_studio::import_points(bad.as_bytes()).unwrap();
    assert!(import.rows.is_empty(), "{import:#?}");
    assert_eq!(
        kinds(&import),
        [
            RejectKind::PointOutsideImage,
            RejectKind::DuplicatePoint,
            RejectKind::Cancelled,
            RejectKind::UnsupportedShape
        ]
    );
    assert_eq!(
        import.rejects[0].at,
        "task 101, annotation 201, label `cup`"
    );
    assert!(
        import.rejects[0]
            .reason
            .starts_with("point 2 (960, 240) is outside the 640x480 image")
    );
    assert_eq!(
        import.rejects[3].at,
        "task 103, annotation 204, result `m2Xb7PzR0e`"
    );

    assert!(label_studio::import_points(b"not json").is_err());
}

#[test]
fn cvat_points_become_rows() {
    let import = cvat::import_points(CVAT_EXPORT).unwrap();
    assert!(import.rejects.is_empty(), "{import:#?}");
    assert_eq!(import.rows.len(), 4);
    assert_eq!(row(&import, "count-000108.jpg", "sheep").points.len(), 4);
    let bottles = row(&import, "count-000230.jpg", "bottle");
    assert_eq!(
        bottles.points.len(),
        3,
        "two <points> shapes of one label merge"
    );
    assert_eq!(bottles.annotator.as_deref(), Some("annotator-3"));

    let bad = CVAT_EXPORT
        .replacen("320.00,240.00;480.00,360.00", "320.00,240.00;480.00,560.00", 1)
        .replacen("200.00,150.00;320.00,360.00", "200.00,150.00;200.00,150.00", 1)
        .replacen("width=\"1000\" height=\"500\"", "width=\"1000\"", 1)
        .replacen(
            "<tag label=\"correct\" source=\"manual\">\n    </tag>\n  </image>\n  <image id=\"2\"",
            "<box label=\"bird\" source=\"manual\" occluded=\"0\" xtl=\"1\" ytl=\"1\" xbr=\"9\" ybr=\"9\" z_order=\"0\">\n    </box>\n  </image>\n  <image id=\"2\"",
            1,
        )
        .replacen("<points label=\"bottle\" source=\"manual\"", "<points label=\" \" source=\"manual\"", 1);
    let import = cvat::import_points(&bad).unwrap();
    assert_eq!(
        kinds(&import),
        [
            RejectKind::PointOutsideImage,
            RejectKind::UnsupportedShape,
            RejectKind::DuplicatePoint,
            RejectKind::BadImageSize,
            RejectKind::EmptyLabel
        ],
        "{import:#?}"
    );
    assert_eq!(
        import.rejects[0].at,
        "<image id=\"0\" name=\"count-000017.jpg\"> <points label=\"cup\">"
    );
    // The bottles' other shape still makes a row.
    assert_eq!(import.rows.len(), 1);
    assert_eq!(row(&import, "count-000230.jpg", "bottle").points.len(), 2);
}

#[test]
fn coco_keypoints_become_rows() {
    let import = coco::import_keypoints(COCO.as_bytes()).unwrap();
    assert!(import.rejects.is_empty(), "{import:#?}");
    let cups = row(&import, "shelf_0001.jpg", "cup");
    assert_eq!(cups.points.len(), 3, "every instance, v = 1 included");
    assert_eq!((cups.points[2].x(), cups.points[2].y()), (441.0, 315.5));
    assert_eq!(
        row(&import, "street_0002.jpg", "person nose").points.len(),
        2
    );
    assert_eq!(
        row(&import, "street_0002.jpg", "person left eye")
            .points
            .len(),
        2
    );
    assert_eq!(
        row(&import, "street_0002.jpg", "person right eye")
            .points
            .len(),
        1,
        "v = 0 is not a point"
    );
    assert_eq!(import.rows.len(), 4);

    let bad = COCO
        .replacen(
            "\"image_id\": 1, \"category_id\": 1, \"segmentation\": [], \"area\": 1150.0",
            "\"image_id\": 7, \"category_id\": 1, \"segmentation\": [], \"area\": 1150.0",
            1,
        )
        .replacen(
            "\"keypoints\": [441.0, 315.5, 1]",
            "\"keypoints\": [441.0, 515.5, 1]",
            1,
        )
        .replacen(
            "\"category_id\": 2, \"segmentation\": [], \"area\": 48000.0",
            "\"category_id\": 9, \"segmentation\": [], \"area\": 48000.0",
            1,
        )
        .replacen(
            "\"keypoints\": [380.0, 140.0, 2, 372.0, 132.0, 2, 0, 0, 0]",
            "\"keypoints\": [380.0, 140.0, 2, 372.0, 132.0, 2]",
            1,
        );
    let import = coco::import_keypoints(bad.as_bytes()).unwrap();
    assert_eq!(
        kinds(&import),
        [
            RejectKind::Malformed,
            RejectKind::Malformed,
            RejectKind::Malformed,
            RejectKind::PointOutsideImage
        ],
        "{import:#?}"
    );
    assert_eq!(import.rejects[0].at, "annotation 12");
    assert_eq!(import.rejects[0].reason, "`image_id` 7 names no image");
    assert_eq!(
        import.rejects[1].reason,
        "2 keypoints, but category `person` names 3"
    );
    assert_eq!(
        import.rejects[2].reason,
        "`category_id` 9 names no category"
    );
    assert!(import.rows.is_empty());

    let e = coco::import_keypoints(b"{\"images\": []}").unwrap_err();
    assert_eq!(
        e.to_string(),
        "COCO export, top level: `annotations` is missing or not an array"
    );
}

//! Images from a folder, a manifest and pixmo shards (bytes kept in the database, captions
//! from PixMo-Cap rows); re-imports add nothing; bad files are listed, not fatal.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, BinaryArray, RecordBatch, StringArray, StructArray};
use arrow::datatypes::{DataType, Field, Fields, Schema};
use pixmo_annotate::{ImageSource, ImportOptions, ServeConfig, Store, TaskKind, TaskMode};
use serde_json::json;

use crate::common::{Browser, databases, invite, write_images};

fn options(source: ImageSource) -> ImportOptions {
    ImportOptions {
        source,
        tasks: vec![(TaskKind::AskModelAnything, TaskMode::Pointing)],
    }
}

/// A shard shaped like PixMo-Cap's: `id`, `caption` and the embedded `image`.
fn write_cap_shard(path: &std::path::Path, images: &[Vec<u8>]) {
    let image_fields = Fields::from(vec![
        Field::new("bytes", DataType::Binary, true),
        Field::new("path", DataType::Utf8, true),
    ]);
    let schema = Arc::new(Schema::new_with_metadata(
        vec![
            Field::new("id", DataType::Utf8, false),
            Field::new("caption", DataType::Utf8, false),
            Field::new("image", DataType::Struct(image_fields.clone()), true),
        ],
        HashMap::from([("pixmo.dataset".to_string(), "cap".to_string())]),
    ));
    let ids: Vec<String> = (0..images.len()).map(|i| format!("cap-{i}")).collect();
    let captions: Vec<String> = (0..images.len())
        .map(|i| format!("Caption number {i}."))
        .collect();
    let bytes = BinaryArray::from_iter_values(images.iter().map(Vec::as_slice));
    let paths = StringArray::from_iter_values(ids.iter().map(|id| format!("{id}.png")));
    let image = StructArray::new(
        image_fields,
        vec![Arc::new(bytes) as ArrayRef, Arc::new(paths)],
        None,
    );
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(StringArray::from_iter_values(ids)),
            Arc::new(StringArray::from_iter_values(captions)),
            Arc::new(image),
        ],
    )
    .unwrap();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, None)
            .unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folders_and_manifests_import_once_and_list_bad_files() {
    let db = crate::common::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("imgs");
    write_images(&folder, 3, 20, 10);
    std::fs::write(folder.join("broken.png"), b"not a png").unwrap();
    std::fs::write(folder.join("notes.txt"), b"ignored").unwrap();
    let store = Store::open(&db.url).await.unwrap();
    let first = pixmo_annotate::import::import_images(
        &store,
        &options(ImageSource::Folder(folder.clone())),
    )
    .await
    .unwrap();
    assert_eq!((first.images_added, first.tasks_added), (3, 3), "{first:?}");
    assert_eq!(first.rejected.len(), 1);
    assert_eq!(first.rejected[0].0, "broken.png");
    assert!(
        first.rejected[0].1.contains("not a PNG or JPEG"),
        "{first:?}"
    );
    let again =
        pixmo_annotate::import::import_images(&store, &options(ImageSource::Folder(folder)))
            .await
            .unwrap();
    assert_eq!(
        (again.images_added, again.images_known, again.tasks_added),
        (0, 3, 0)
    );

    let manifest = dir.path().join("list.txt");
    std::fs::write(
        &manifest,
        "imgs/img-000.png\nimgs/missing.png\n\n# comment\n",
    )
    .unwrap();
    let listed = pixmo_annotate::import::import_images(
        &store,
        &options(ImageSource::Manifest(manifest.clone())),
    )
    .await
    .unwrap();
    assert_eq!((listed.images_added, listed.images_known), (0, 1));
    assert_eq!(listed.rejected[0].0, "imgs/missing.png");
    std::fs::write(&manifest, "{\"path\": 3}\n").unwrap();
    let err =
        pixmo_annotate::import::import_images(&store, &options(ImageSource::Manifest(manifest)))
            .await
            .unwrap_err();
    assert!(err.to_string().contains("list.txt:1"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_import_with_captions_and_are_served_from_the_database() {
    for db in databases().await {
        let dir = tempfile::tempdir().unwrap();
        let pngs = write_images(&dir.path().join("src"), 2, 30, 20);
        let images: Vec<Vec<u8>> = pngs.iter().map(|p| std::fs::read(p).unwrap()).collect();
        write_cap_shard(
            &dir.path().join("out/cap/train/part-00000-00000.parquet"),
            &images,
        );
        // Temporaries of the shard writers are hidden files: never read.
        std::fs::write(
            dir.path()
                .join("out/cap/train/.part-00000-00001.parquet.tmp-x"),
            b"junk",
        )
        .unwrap();
        let store = Store::open(&db.url).await.unwrap();
        let report = pixmo_annotate::import::import_images(
            &store,
            &options(ImageSource::Dataset(dir.path().join("out/cap"))),
        )
        .await
        .unwrap();
        assert_eq!(
            (report.images_added, report.tasks_added),
            (2, 2),
            "{report:?}"
        );
        let sha = pixmo_core::sha256_hex(&images[0]);
        let record = store.image(&sha).await.unwrap();
        assert_eq!(record.image.path, "");
        assert_eq!(record.image.source_id, "cap/cap-0");
        assert_eq!(record.image.caption.as_deref(), Some("Caption number 0."));
        assert_eq!(record.image.caption_source, "pixmo-cap");
        // The source files can go: the app serves the stored bytes.
        std::fs::remove_dir_all(dir.path().join("src")).unwrap();
        let frank = invite(&store, "frank").await;
        let server = pixmo_annotate::start(ServeConfig::new(
            db.url.clone(),
            "127.0.0.1:0".parse().unwrap(),
        ))
        .await
        .unwrap();
        let browser = Browser::login(&server.url(), &frank.token).await;
        let (_, claimed) = browser
            .post("/api/claim", json!({"kind": "ask_model_anything"}))
            .await;
        let url = format!(
            "{}{}",
            server.url(),
            claimed["task"]["image"]["url"].as_str().unwrap()
        );
        let served = browser
            .client
            .get(url)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(served.as_ref(), images[0].as_slice(), "{}", db.label);
        server.shutdown().await.unwrap();
        store.close().await;
    }
}

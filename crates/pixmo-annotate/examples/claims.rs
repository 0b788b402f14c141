//! Queue throughput: `CLAIMERS` annotators claim, autosave twice and submit `TASKS` tasks at
//! once against a database (a new SQLite file path or an empty PostgreSQL database).
//!
//! `cargo run --release -p pixmo-annotate --example claims -- DATABASE [TASKS] [CLAIMERS]`

use std::sync::Arc;
use std::time::Instant;

use pixmo_annotate::store::{NewImage, now_us};
use pixmo_annotate::{Store, TaskKind, TaskMode};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let database = args
        .first()
        .ok_or("usage: claims DATABASE [TASKS] [CLAIMERS]")?;
    let tasks: usize = args.get(1).map_or(Ok(2000), |s| s.parse())?;
    let claimers: usize = args.get(2).map_or(Ok(16), |s| s.parse())?;
    let store = Arc::new(Store::open(database).await?);
    for i in 0..tasks {
        let image = NewImage {
            sha256: format!("{i:064x}"),
            path: String::new(),
            source_id: format!("bench/{i}"),
            format: "png".into(),
            width: 640,
            height: 480,
            caption: None,
            caption_source: "none".into(),
        };
        store.add_image(&image, now_us()).await?;
        store
            .add_task(
                &image.sha256,
                TaskKind::Points,
                TaskMode::Pointing,
                now_us(),
            )
            .await?;
    }
    let start = Instant::now();
    let mut handles = Vec::new();
    for c in 0..claimers {
        let store = Arc::clone(&store);
        let id = store
            .create_invite(&format!("bench-{c}-{}", now_us()), now_us())
            .await?
            .annotator
            .id;
        handles.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let t = Instant::now();
                let Some(task) = store
                    .claim(&id, TaskKind::Points, now_us(), 600_000_000)
                    .await?
                else {
                    break;
                };
                latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                for save in 0..2 {
                    let work =
                        format!(r#"{{"current":{{"label":"x","points":[{{"x":{save},"y":1}}]}}}}"#);
                    store
                        .save_state(task.id, &id, &work, now_us(), 600_000_000)
                        .await?;
                }
                store.submit(task.id, &id, "{}", now_us()).await?;
            }
            Ok::<_, pixmo_annotate::Error>(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for handle in handles {
        latencies.extend(handle.await??);
    }
    let seconds = start.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize];
    println!(
        "{:?}: {} tasks by {claimers} claimers in {seconds:.2} s: {:.0} tasks/s ({:.0} writes/s); claim p50 {:.2} ms, p99 {:.2} ms",
        store.backend(),
        latencies.len(),
        latencies.len() as f64 / seconds,
        latencies.len() as f64 * 4.0 / seconds,
        pct(0.5),
        pct(0.99)
    );
    Ok(())
}

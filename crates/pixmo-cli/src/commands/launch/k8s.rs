//! Kubernetes: `job.yaml` (the spec as a ConfigMap, and an Indexed Job), `finalize.yaml` (a
//! Job running `pixmo finalize`) and `apply.sh` (applies the Job, waits, applies finalize).
//!
//! Manifests are built as JSON values and emitted by `serde_yaml` with keys in sorted order,
//! so any string (a spec file, an image name) is quoted by the YAML emitter and the output is
//! deterministic. `tests/python/check_k8s.py` checks them against the official Kubernetes
//! client's models. `backoffLimitPerIndex` needs Kubernetes 1.29 or later.

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use anyhow::bail;
use serde_json::{Value, json};

use super::quote::{k8s_name, path_text, shell_quote};
use super::{File, Launch};

/// Where the data PVC is mounted in every pod.
pub const DATA_MOUNT: &str = "/data";
/// Where the spec ConfigMap is mounted.
const SPEC_MOUNT: &str = "/etc/pixmo";
/// Key of the spec in the ConfigMap.
const SPEC_KEY: &str = "pipeline.toml";

/// Kubernetes-only settings, already checked.
pub struct Options<'a> {
    /// `--image`.
    pub image: &'a str,
    /// `--pvc` (ReadWriteMany).
    pub pvc: &'a str,
    /// `--api-key-secret`.
    pub api_key_secret: &'a str,
}

/// The three files, `job.yaml` first.
pub fn files(launch: &Launch, options: &Options) -> anyhow::Result<Vec<File>> {
    let name = format!("pixmo-{}", launch.dataset.replace('_', "-"));
    for n in [&name, &format!("{name}-finalize"), &format!("{name}-spec")] {
        k8s_name("Job name", n)?;
    }
    let out = out_in_volume(&launch.out)?;
    let out = path_text("--out", &out)?.to_string();
    let dataset_dir = format!("{out}/{}", launch.dataset);
    let spec_path = launch
        .spec
        .as_ref()
        .map(|_| format!("{SPEC_MOUNT}/{SPEC_KEY}"));

    let mut command = vec![launch.pixmo_bin.clone()];
    command.extend(launch.build_args(&out, spec_path.as_deref()));
    command.extend(["--jobs".into(), launch.cpus.to_string()]);

    let mut mounts = vec![json!({"name": "data", "mountPath": DATA_MOUNT})];
    let mut volumes =
        vec![json!({"name": "data", "persistentVolumeClaim": {"claimName": options.pvc}})];
    let mut env = Vec::new();
    let mut documents = Vec::new();
    if let Some((_, text)) = &launch.spec {
        documents.push(json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": format!("{name}-spec"), "labels": labels(launch, "spec")},
            "data": {SPEC_KEY: text},
        }));
        mounts.push(json!({"name": "spec", "mountPath": SPEC_MOUNT, "readOnly": true}));
        volumes.push(json!({"name": "spec", "configMap": {"name": format!("{name}-spec")}}));
    }
    if let Some(api_key_envs) = &launch.llm {
        // LLM pipelines: models and the reply cache live on the same (RWX) volume.
        mounts.push(
            json!({"name": "data", "mountPath": "/models", "subPath": "models", "readOnly": true}),
        );
        mounts.push(json!({"name": "data", "mountPath": "/cache", "subPath": "llm-cache"}));
        env.push(json!({"name": "PIXMO_MODELS_DIR", "value": "/models"}));
        env.push(json!({"name": "PIXMO_LLM_CACHE", "value": "/cache"}));
        for var in api_key_envs {
            env.push(json!({
                "name": var,
                "valueFrom": {"secretKeyRef": {"name": options.api_key_secret, "key": var}},
            }));
        }
    }
    let resources = json!({
        "requests": {"cpu": launch.cpus.to_string(), "memory": launch.mem.1},
        "limits": {"cpu": launch.cpus.to_string(), "memory": launch.mem.1},
    });
    let mut container = json!({
        "name": "pixmo",
        "image": options.image,
        "command": command,
        "resources": resources,
        "volumeMounts": mounts,
    });
    if !env.is_empty() {
        container["env"] = Value::Array(env);
    }
    documents.push(json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "labels": labels(launch, "build")},
        "spec": {
            "completionMode": "Indexed",
            "completions": launch.num_shards,
            "parallelism": launch.parallelism,
            "backoffLimitPerIndex": 3,
            "template": {
                "metadata": {"labels": labels(launch, "build")},
                "spec": {
                    "restartPolicy": "Never",
                    "activeDeadlineSeconds": launch.time.1,
                    "containers": [container],
                    "volumes": volumes,
                },
            },
        },
    }));

    let finalize = json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": format!("{name}-finalize"), "labels": labels(launch, "finalize")},
        "spec": {
            "backoffLimit": 2,
            "template": {
                "metadata": {"labels": labels(launch, "finalize")},
                "spec": {
                    "restartPolicy": "Never",
                    "activeDeadlineSeconds": launch.time.1,
                    "containers": [{
                        "name": "pixmo",
                        "image": options.image,
                        "command": [launch.pixmo_bin, "finalize", dataset_dir],
                        "resources": {
                            "requests": {"cpu": "1", "memory": launch.mem.1},
                            "limits": {"cpu": "1", "memory": launch.mem.1},
                        },
                        "volumeMounts": [{"name": "data", "mountPath": DATA_MOUNT}],
                    }],
                    "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": options.pvc}}],
                },
            },
        },
    });

    let header = |what: &str| {
        let mut h = String::new();
        let _ = writeln!(h, "# {}.", launch.describe());
        let _ = writeln!(h, "# {what}");
        let _ = writeln!(
            h,
            "# The PersistentVolumeClaim `{}` must be ReadWriteMany: every pod writes its shards to it",
            options.pvc
        );
        let _ = writeln!(
            h,
            "# (mounted at {DATA_MOUNT}; the dataset goes to {dataset_dir})."
        );
        h
    };
    let mut job = header(
        "The Indexed Job: pixmo reads the shard index from JOB_COMPLETION_INDEX; a retried pod redoes only unfinished shards.",
    );
    for (i, document) in documents.iter().enumerate() {
        if i > 0 {
            job.push_str("---\n");
        }
        job.push_str(&yaml(document)?);
    }
    let finalize =
        header("Apply after the build Job completes (apply.sh does): writes manifest.json.")
            + &yaml(&finalize)?;

    let mut apply = String::from("#!/bin/bash\n");
    let _ = writeln!(apply, "# {}.", launch.describe());
    let _ = writeln!(
        apply,
        "# Applies job.yaml, waits for the Job to complete, then applies finalize.yaml."
    );
    let _ = writeln!(
        apply,
        "# Needs a ReadWriteMany PVC `{}` holding the output (and `models/`, `llm-cache/` for LLM pipelines).",
        options.pvc
    );
    let _ = writeln!(apply, "set -euo pipefail");
    let _ = writeln!(apply, "here=\"$(cd \"$(dirname \"$0\")\" && pwd)\"");
    let _ = writeln!(apply, "kubectl apply -f \"$here/job.yaml\"");
    let _ = writeln!(apply, "while :; do");
    let _ = writeln!(
        apply,
        "  state=\"$(kubectl get job {} -o 'jsonpath={{.status.conditions[?(@.status==\"True\")].type}}')\"",
        shell_quote(&name)
    );
    let _ = writeln!(apply, "  case \" $state \" in");
    let _ = writeln!(apply, "    *\" Complete \"*) break ;;");
    let _ = writeln!(
        apply,
        "    *\" Failed \"*) echo \"job/{name} failed; committed shards are kept, delete the Job and apply again\" >&2; exit 1 ;;"
    );
    let _ = writeln!(apply, "  esac");
    let _ = writeln!(apply, "  sleep 30");
    let _ = writeln!(apply, "done");
    let _ = writeln!(apply, "kubectl apply -f \"$here/finalize.yaml\"");

    Ok(vec![
        File {
            name: "job.yaml",
            text: job,
            executable: false,
        },
        File {
            name: "finalize.yaml",
            text: finalize,
            executable: false,
        },
        File {
            name: "apply.sh",
            text: apply,
            executable: true,
        },
    ])
}

fn labels(launch: &Launch, component: &str) -> Value {
    json!({
        "app.kubernetes.io/name": "pixmo",
        "app.kubernetes.io/component": component,
        "pixmo/dataset": launch.dataset,
    })
}

/// `--out` as a path on the data volume: a relative path goes under [`DATA_MOUNT`], an
/// absolute one must already be there; `..` is refused.
fn out_in_volume(out: &Path) -> anyhow::Result<PathBuf> {
    let mut path = PathBuf::from(DATA_MOUNT);
    let relative = match out.strip_prefix(DATA_MOUNT) {
        Ok(rest) => rest,
        Err(_) if out.is_absolute() => bail!(
            "--out `{}` is outside the data volume: pods mount the PVC at {DATA_MOUNT}; pass a folder on the volume (relative, or absolute under {DATA_MOUNT})",
            out.display()
        ),
        Err(_) => out,
    };
    for component in relative.components() {
        match component {
            Component::Normal(part) => path.push(part),
            Component::CurDir => {}
            _ => bail!(
                "--out `{}` must not leave the data volume (`..`)",
                out.display()
            ),
        }
    }
    Ok(path)
}

/// One YAML document, keys sorted at every level.
fn yaml(value: &Value) -> anyhow::Result<String> {
    fn convert(value: &Value) -> serde_yaml::Value {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                let mut out = serde_yaml::Mapping::new();
                for key in keys {
                    out.insert(serde_yaml::Value::String(key.clone()), convert(&map[key]));
                }
                serde_yaml::Value::Mapping(out)
            }
            Value::Array(items) => serde_yaml::Value::Sequence(items.iter().map(convert).collect()),
            other => serde_yaml::to_value(other).expect("a JSON scalar is a YAML scalar"),
        }
    }
    Ok(serde_yaml::to_string(&convert(value))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_lands_on_the_volume() {
        let ok = |s: &str| out_in_volume(Path::new(s)).unwrap().display().to_string();
        assert_eq!(ok("out"), "/data/out");
        assert_eq!(ok("./a/b"), "/data/a/b");
        assert_eq!(ok("/data/pixmo"), "/data/pixmo");
        assert_eq!(ok("/data"), "/data");
        assert!(out_in_volume(Path::new("/shared/x")).is_err());
        assert!(out_in_volume(Path::new("../x")).is_err());
        assert!(out_in_volume(Path::new("/data/../etc")).is_err());
        assert!(out_in_volume(Path::new("/database")).is_err());
    }
}

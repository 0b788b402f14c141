"""Validate Kubernetes manifests with the official Kubernetes Python client's models.

Usage: check_k8s.py FILE.yaml [FILE.yaml ...]

Each YAML document is deserialized into the client's model class for its kind (`V1Job`,
`V1ConfigMap`), which enforces required fields, then serialized back. A key the schema does
not know, or one in the wrong place, vanishes in that round trip, and a value of the wrong
type changes: any difference is an error. On top of the schema, checks what the API server or
the kubelet would refuse or what `pixmo launch` promises: absolute mount paths, mounts that
name a volume, ConfigMaps that exist among the given documents, restart policy, resources,
Indexed completion. Prints `checked N documents` and exits 0, or lists problems and exits 1.
"""

import re
import sys

import yaml
from kubernetes.client import ApiClient

MODELS = {
    ("batch/v1", "Job"): "V1Job",
    ("batch/v1", "CronJob"): "V1CronJob",
    ("v1", "ConfigMap"): "V1ConfigMap",
}
CRON_FIELD = re.compile(r"^[0-9*/,-]+$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def differences(original, round_trip, path):
    """Where `round_trip` differs from `original`, as readable lines."""
    if isinstance(original, dict) and isinstance(round_trip, dict):
        for key in original:
            if key not in round_trip:
                yield f"{path}.{key}: not in the schema here (dropped by the round trip)"
            else:
                yield from differences(original[key], round_trip[key], f"{path}.{key}")
        for key in round_trip:
            if key not in original:
                yield f"{path}.{key}: added by the round trip"
    elif isinstance(original, list) and isinstance(round_trip, list):
        if len(original) != len(round_trip):
            yield f"{path}: {len(original)} items became {len(round_trip)}"
        for i, (a, b) in enumerate(zip(original, round_trip)):
            yield from differences(a, b, f"{path}[{i}]")
    elif original != round_trip or type(original) is not type(round_trip):
        yield f"{path}: {original!r} became {round_trip!r} (wrong type)"


def check_pod(pod, where, config_maps):
    """Rules for a pod template's spec beyond the schema."""
    problems = []
    if pod.get("restartPolicy") not in ("Never", "OnFailure"):
        problems.append(f"{where}.restartPolicy: a Job needs Never or OnFailure")
    volumes = {v["name"]: v for v in pod.get("volumes") or []}
    for v in volumes.values():
        if "configMap" in v and v["configMap"]["name"] not in config_maps:
            problems.append(f"{where}.volumes.{v['name']}: ConfigMap `{v['configMap']['name']}` is not among the documents")
        if "persistentVolumeClaim" in v and not v["persistentVolumeClaim"].get("claimName"):
            problems.append(f"{where}.volumes.{v['name']}: no claimName")
    for i, c in enumerate(pod.get("containers") or []):
        at = f"{where}.containers[{i}]"
        if not c.get("image"):
            problems.append(f"{at}.image: missing")
        if not c.get("command"):
            problems.append(f"{at}.command: missing")
        for kind in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                if not (c.get("resources") or {}).get(kind, {}).get(resource):
                    problems.append(f"{at}.resources.{kind}.{resource}: missing")
        for j, m in enumerate(c.get("volumeMounts") or []):
            if not m["mountPath"].startswith("/"):
                problems.append(f"{at}.volumeMounts[{j}].mountPath: `{m['mountPath']}` is not absolute")
            if m["name"] not in volumes:
                problems.append(f"{at}.volumeMounts[{j}]: no volume named `{m['name']}`")
        for j, e in enumerate(c.get("env") or []):
            ref = (e.get("valueFrom") or {}).get("secretKeyRef")
            if ref is not None and not (ref.get("name") and ref.get("key")):
                problems.append(f"{at}.env[{j}].valueFrom.secretKeyRef: needs name and key")
    return problems


def check_job(doc, where, config_maps):
    spec = doc["spec"]
    problems = []
    if spec.get("completionMode") == "Indexed":
        if not spec.get("completions"):
            problems.append(f"{where}.spec.completions: an Indexed Job needs completions")
        if "backoffLimitPerIndex" in spec and spec["template"]["spec"].get("restartPolicy") != "Never":
            problems.append(f"{where}.spec.backoffLimitPerIndex: needs restartPolicy Never")
    if "backoffLimit" not in spec and "backoffLimitPerIndex" not in spec:
        problems.append(f"{where}.spec: set backoffLimit or backoffLimitPerIndex")
    return problems + check_pod(spec["template"]["spec"], f"{where}.spec.template.spec", config_maps)


def check_cron_job(doc, where, config_maps):
    """A schedule cron accepts, no overlapping runs, and a valid Job template."""
    spec = doc["spec"]
    problems = []
    fields = spec.get("schedule", "").split()
    if len(fields) != 5 or not all(CRON_FIELD.match(f) for f in fields):
        problems.append(f"{where}.spec.schedule: `{spec.get('schedule')}` is not five cron fields")
    if spec.get("concurrencyPolicy") != "Forbid":
        problems.append(f"{where}.spec.concurrencyPolicy: a refresh must not overlap the previous one (Forbid)")
    job = {"spec": spec["jobTemplate"]["spec"]}
    return problems + check_job(job, f"{where}.spec.jobTemplate", config_maps)


def main(paths):
    api = ApiClient()
    documents = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for i, doc in enumerate(yaml.safe_load_all(f)):
                if doc is not None:
                    documents.append((f"{path}#{i}", doc))
    config_maps = {d["metadata"]["name"] for _, d in documents if d.get("kind") == "ConfigMap"}
    problems = []
    for where, doc in documents:
        model = MODELS.get((doc.get("apiVersion"), doc.get("kind")))
        if model is None:
            problems.append(f"{where}: unexpected apiVersion/kind {doc.get('apiVersion')}/{doc.get('kind')}")
            continue
        try:
            obj = api._ApiClient__deserialize(doc, model)
        except (ValueError, TypeError, AttributeError) as e:
            problems.append(f"{where}: not a valid {model}: {e}")
            continue
        problems += [f"{where}: {d}" for d in differences(doc, api.sanitize_for_serialization(obj), "")]
        name = (doc.get("metadata") or {}).get("name", "")
        if not DNS_LABEL.match(name) or len(name) > 63:
            problems.append(f"{where}.metadata.name: `{name}` is not a DNS-1123 label")
        if doc["kind"] == "Job":
            problems += check_job(doc, where, config_maps)
        if doc["kind"] == "CronJob":
            problems += check_cron_job(doc, where, config_maps)
    for p in problems:
        print(p)
    if problems:
        sys.exit(1)
    print(f"checked {len(documents)} documents")


if __name__ == "__main__":
    main(sys.argv[1:])

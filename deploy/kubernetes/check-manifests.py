#!/usr/bin/python3
"""Checks Kubernetes manifests against the API's published schema, offline.

The schema is the one the official Python client (Debian 12's
python3-kubernetes 22.6, generated from Kubernetes 1.22's OpenAPI
specification) carries for every kind: each model's fields with their
JSON names and types, and its required fields. A document is checked
strictly: a field the kind does not have (a typo such as `hostPid`), a
value of the wrong type, a missing required field or an apiVersion/kind
the API has not are errors, each named by its path.

usage: check-manifests.py FILE...   (exit 0: every document is valid)
"""
import re
import sys

import yaml
from kubernetes import client


def snake(kind):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", kind).lower()


def model_of(api_version, kind):
    """The schema's model of (apiVersion, kind), or None when the API has
    no such kind in that group and version: the model (V1 + kind) must
    exist and the group's API (AppsV1Api, CoreV1Api, NodeV1Api, ...) must
    serve it."""
    group, _, version = api_version.rpartition("/")
    if not re.fullmatch(r"v\d+((alpha|beta)\d+)?", version) or not kind:
        return None
    cls = getattr(client.models, version[0].upper() + version[1:] + kind, None)
    words = group.removesuffix(".k8s.io").replace(".", "_").split("_") if group else ["core"]
    api = getattr(client, "".join(w.capitalize() for w in words) + version.capitalize() + "Api", None)
    served = api is not None and any(
        hasattr(api, f"create_{scope}{snake(kind)}") for scope in ("namespaced_", ""))
    return cls if cls is not None and served else None


def check(value, type_name, path, errors):
    """Appends to errors what in value (at path) the schema's type_name
    does not allow: the client's type names are list[T], dict(str, T),
    str, int, bool, float, datetime, object (any value) or a model."""
    if value is None:
        return
    m = re.fullmatch(r"list\[(.+)\]", type_name)
    if m:
        if not isinstance(value, list):
            errors.append(f"{path}: expected a list, got {type(value).__name__}")
            return
        for i, item in enumerate(value):
            check(item, m.group(1), f"{path}[{i}]", errors)
        return
    m = re.fullmatch(r"dict\(str, (.+)\)", type_name)
    if m:
        if not isinstance(value, dict):
            errors.append(f"{path}: expected a map, got {type(value).__name__}")
            return
        for k, v in value.items():
            check(v, m.group(1), f"{path}.{k}", errors)
        return
    primitive = {"str": (str,), "int": (int,), "bool": (bool,), "float": (int, float), "datetime": (str,)}
    if type_name in primitive:
        ok = isinstance(value, primitive[type_name]) and not (type_name == "int" and isinstance(value, bool))
        if not ok:
            errors.append(f"{path}: expected {type_name}, got {type(value).__name__} {value!r}")
        return
    if type_name == "object":  # IntOrString, Quantity, RawExtension: any value
        return
    cls = getattr(client.models, type_name)
    if not isinstance(value, dict):
        errors.append(f"{path}: expected an object ({type_name}), got {type(value).__name__}")
        return
    by_json = {json: attr for attr, json in cls.attribute_map.items()}
    for key, v in value.items():
        if key not in by_json:
            errors.append(f"{path}.{key}: {type_name} has no field {key!r}")
            continue
        check(v, cls.openapi_types[by_json[key]], f"{path}.{key}", errors)
    # Required fields (and the enums some setters know): the model's
    # constructor refuses None for a required field. Nested values were
    # checked above: a stand-in is enough for them.
    kwargs = {}
    for attr, json in cls.attribute_map.items():
        v = value.get(json)
        kwargs[attr] = v if v is None or cls.openapi_types[attr] in primitive else object()
    try:
        cls(**kwargs)
    except ValueError as e:
        errors.append(f"{path}: {e}")


def main(paths):
    failed = False
    for path in paths:
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
        if not docs:
            print(f"{path}: no document")
            failed = True
        for n, doc in enumerate(docs):
            where = f"{path}[{n}]"
            if not isinstance(doc, dict):
                print(f"{where}: not an object")
                failed = True
                continue
            cls = model_of(str(doc.get("apiVersion", "")), str(doc.get("kind", "")))
            if cls is None:
                print(f"{where}: unknown apiVersion/kind {doc.get('apiVersion')}/{doc.get('kind')}")
                failed = True
                continue
            errors = []
            check(doc, cls.__name__, doc.get("kind"), errors)
            for e in errors:
                print(f"{where}: {e}")
            failed = failed or bool(errors)
            if not errors:
                print(f"{where}: {doc['apiVersion']} {doc['kind']} {doc.get('metadata', {}).get('name')}: valid")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

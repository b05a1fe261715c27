"""Checks Calendar traffic against calendar.v3.json, the discovery document the client ships.

Discovery schemas become JSON Schema (draft 2020-12): `$ref` names point into `$defs`, objects
with `properties` and no `additionalProperties` are closed (an unknown property is reported,
which is the point: a misspelt `extendedProperty` must not pass silently), `format` becomes a
loose pattern, and a method's `annotations.required` fields become `required` on its request.
PATCH bodies may carry JSON null anywhere (null deletes a key), so they get a nullable variant.

    >>> schemas = DiscoverySchemas.load()
    >>> schemas.check_request("calendar.events.insert", {"extendedProperty": {}})
    ["request calendar.events.insert: $: Additional properties are not allowed ('extendedProperty'
    was unexpected)", "request calendar.events.insert: $: 'end' is a required property", ...]
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import googleapiclient
from jsonschema import Draft202012Validator

DOCUMENT = (
    Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / "calendar.v3.json"
)

# Loose shapes for discovery formats carried in strings.
PATTERNS = {
    "date-time": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|z|[+-]\d{2}:\d{2})?$",
    "date": r"^\d{4}-\d{2}-\d{2}$",
    "int64": r"^-?\d+$",
    "uint64": r"^\d+$",
}
# Query parameters every method accepts (the document's global ones plus what clients add).
EXTRA_GLOBAL_PARAMS = {"access_token", "$.xgafv", "callback", "uploadType", "upload_protocol"}


def _convert(node: Any, nullable: bool) -> Any:
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    if "$ref" in node:
        out["$ref"] = f"#/$defs/{node['$ref']}"
        return {"anyOf": [out, {"type": "null"}]} if nullable else out
    kind = node.get("type")
    if kind == "any":
        return {}
    if kind:
        out["type"] = [kind, "null"] if nullable else kind
    if node.get("format") in PATTERNS and kind == "string":
        out["pattern"] = PATTERNS[node["format"]]
    if "enum" in node:
        out["enum"] = list(node["enum"]) + ([None] if nullable else [])
    if "properties" in node:
        out["properties"] = {k: _convert(v, nullable) for k, v in node["properties"].items()}
    if "additionalProperties" in node:
        out["additionalProperties"] = _convert(node["additionalProperties"], nullable)
    elif "properties" in node:
        out["additionalProperties"] = False
    if "items" in node:
        out["items"] = _convert(node["items"], nullable)
    return out


def _path(error: Any) -> str:
    parts = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return "$" + parts


class DiscoverySchemas:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.methods: dict[str, dict[str, Any]] = {}
        self._collect(document.get("resources", {}))
        self.global_params = set(document.get("parameters", {})) | EXTRA_GLOBAL_PARAMS
        self._defs = {n: _convert(s, False) for n, s in document["schemas"].items()}
        self._nullable_defs = {n: _convert(s, True) for n, s in document["schemas"].items()}
        self._validators: dict[tuple[str, str, bool], Draft202012Validator] = {}

    @classmethod
    @cache
    def load(cls) -> DiscoverySchemas:
        return cls(json.loads(DOCUMENT.read_text()))

    def _collect(self, resources: dict[str, Any]) -> None:
        for resource in resources.values():
            for method in resource.get("methods", {}).values():
                self.methods[method["id"]] = method
            self._collect(resource.get("resources", {}))

    def properties(self, schema_name: str) -> set[str]:
        return set(self.document["schemas"][schema_name].get("properties", {}))

    def scopes(self, method_id: str) -> set[str]:
        return set(self.methods[method_id].get("scopes", []))

    def _validator(self, method_id: str, direction: str, nullable: bool) -> Draft202012Validator:
        key = (method_id, direction, nullable)
        if key not in self._validators:
            ref = self.methods[method_id][direction]["$ref"]
            defs = self._nullable_defs if nullable else self._defs
            root: dict[str, Any] = copy.deepcopy(defs[ref])
            if direction == "request":
                props = self.document["schemas"][ref].get("properties", {})
                needed = [
                    name
                    for name, prop in props.items()
                    if method_id in prop.get("annotations", {}).get("required", [])
                ]
                if needed:
                    root["required"] = needed
            root["$defs"] = defs
            self._validators[key] = Draft202012Validator(root)
        return self._validators[key]

    def _check(self, method_id: str, direction: str, body: Any, nullable: bool) -> list[str]:
        method = self.methods.get(method_id)
        if method is None or direction not in method:
            return []
        validator = self._validator(method_id, direction, nullable)
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
        return [f"{direction} {method_id}: {_path(e)}: {e.message}" for e in errors]

    def check_request(self, method_id: str, body: Any) -> list[str]:
        nullable = self.methods.get(method_id, {}).get("httpMethod") == "PATCH"
        return self._check(method_id, "request", body, nullable)

    def check_response(self, method_id: str, body: Any) -> list[str]:
        return self._check(method_id, "response", body, False)

    def check_query(self, method_id: str, names: set[str]) -> list[str]:
        method = self.methods.get(method_id)
        if method is None:
            return []
        known = {
            n for n, p in method.get("parameters", {}).items() if p.get("location") == "query"
        }
        return [
            f"query {method_id}: unknown parameter {name!r}"
            for name in sorted(names - known - self.global_params)
        ]

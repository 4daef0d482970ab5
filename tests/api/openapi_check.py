"""Responses checked against the OpenAPI document: the operation's declared status and its JSON Schema (OpenAPI
3.1 schemas are JSON Schema 2020-12: validated by `jsonschema` with the document as the root for $refs)."""

from __future__ import annotations

import re
from typing import Any

import httpx
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = "urn:vodfleet-openapi"


class OpenApiCheck:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.registry: Registry[Any] = Registry().with_resource(ROOT, Resource(document, specification=DRAFT202012))
        # {title} is a key prefix (slashes inside); other parameters are one segment
        self.paths = [(re.compile("^" + re.sub(r"\{(\w+)\}", lambda m: ".+" if m[1] == "title" else "[^/]+", p)
                                  + "$"), p) for p in document["paths"]]
        self.seen: set[tuple[str, str, str]] = set()

    def template(self, path: str) -> str:
        for pattern, template in self.paths:
            if pattern.match(path):
                return template
        raise AssertionError(f"{path} is not in the OpenAPI document")

    def check(self, response: httpx.Response) -> dict[str, Any]:
        """Assert `response` is declared (path, method, status) and its JSON body fits the schema; return it."""
        request = response.request
        template = self.template(request.url.path)
        operation = self.document["paths"][template][request.method.lower()]
        status = str(response.status_code)
        declared = operation["responses"].get(status)
        assert declared is not None, f"{request.method} {template} answered {status}, not declared: {response.text}"
        self.seen.add((request.method, template, status))
        content = declared.get("content", {})
        if "application/json" not in content:
            return {}
        body = response.json()
        schema = content["application/json"]["schema"]
        resolved = _rebase(schema)
        validator = Draft202012Validator(resolved, registry=self.registry)
        errors = sorted(validator.iter_errors(body), key=str)
        assert not errors, f"{request.method} {template} {status}: {errors[0].message} in {body}"
        return body  # type: ignore[no-any-return]


def _rebase(schema: Any) -> Any:
    """'#/components/...' refs → the document's URN, so they resolve from a sub-schema."""
    if isinstance(schema, dict):
        return {k: (ROOT + v if k == "$ref" and isinstance(v, str) and v.startswith("#") else _rebase(v))
                for k, v in schema.items()}
    if isinstance(schema, list):
        return [_rebase(v) for v in schema]
    return schema

"""The API's description: /api/v1/openapi.json for tools, /api/v1/docs for people.

The docs page is drawn on the server from the same description, in the site's layout, with no
script: Swagger UI and Redoc both need inline styles (and Swagger UI data: images) that the
Content-Security-Policy forbids, and a page of plain HTML reads well, prints, and passes axe-core.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from app.api.problems import PROBLEM_JSON

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")

METHOD_ORDER = ("get", "post", "put", "patch", "delete")


def openapi_description() -> dict[str, Any]:
    """The OpenAPI description of the running app's API."""
    return current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()


@bp.get("/openapi.json")
def openapi_json() -> Response:
    """The OpenAPI 3.1 description of every operation."""
    response = jsonify(openapi_description())
    response.add_etag()
    response.make_conditional(request)
    return response


def _resolve(spec: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """Follow a local $ref ("#/components/...") to what it names."""
    while isinstance(item, dict) and "$ref" in item:
        node: Any = spec
        for part in item["$ref"].lstrip("#/").split("/"):
            node = node[part]
        item = node
    return item


def _type_of(schema: dict[str, Any]) -> str:
    """A schema's type in a few words: "string", "integer or null", "array of Attempt"."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(_type_of(option) for option in schema["anyOf"])
    kind = schema.get("type", "object")
    kinds = kind if isinstance(kind, list) else [kind]
    words = []
    for each in kinds:
        if each == "array":
            words.append(f"array of {_type_of(schema.get('items', {}))}")
        else:
            words.append(each + (f" ({schema['format']})" if schema.get("format") and each != "null" else ""))
    text = " or ".join(words)
    if "enum" in schema:
        text += ": one of " + ", ".join(str(value) for value in schema["enum"])
    return text


def _schema_name(content: dict[str, Any]) -> str | None:
    for media in content.values():
        schema = media.get("schema", {})
        if "$ref" in schema:
            return schema["$ref"].rsplit("/", 1)[-1]
    return None


def _operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every operation, grouped in the spec's tag order, ready for the template."""
    tags = [tag["name"] for tag in spec.get("tags", [])]
    found = []
    for path, item in spec.get("paths", {}).items():
        for method in METHOD_ORDER:
            operation = item.get(method)
            if operation is None:
                continue
            parameters = [_resolve(spec, p) for p in item.get("parameters", []) + operation.get("parameters", [])]
            body = operation.get("requestBody")
            responses = []
            for status, response in operation.get("responses", {}).items():
                response = _resolve(spec, response)
                content = response.get("content", {})
                responses.append(
                    {
                        "status": status,
                        "description": response.get("description", ""),
                        "media": ", ".join(content),
                        "schema": _schema_name(content),
                    }
                )
            found.append(
                {
                    "id": operation.get("operationId") or f"{method}-{path}",
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "tag": (operation.get("tags") or [""])[0],
                    "scope": operation.get("x-required-scope"),
                    "token": bool(operation.get("security")),
                    "parameters": [
                        {
                            "name": p["name"],
                            "in": p["in"],
                            "required": p.get("required", False),
                            "type": _type_of(p.get("schema", {})),
                            "description": p.get("description", ""),
                        }
                        for p in parameters
                    ],
                    "body": _schema_name(body.get("content", {})) if body else None,
                    "responses": responses,
                }
            )
    order = {tag: index for index, tag in enumerate(tags)}
    return sorted(found, key=lambda op: order.get(op["tag"], len(order)))


def _schemas(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every named schema with its fields, for the reference at the end of the page."""
    schemas = []
    for name, schema in spec.get("components", {}).get("schemas", {}).items():
        required = set(schema.get("required", []))
        schemas.append(
            {
                "name": name,
                "description": schema.get("description", ""),
                "fields": [
                    {
                        "name": field,
                        "type": _type_of(definition),
                        "required": field in required,
                        "description": definition.get("description", ""),
                        "link": definition.get("$ref", "").rsplit("/", 1)[-1]
                        or definition.get("items", {}).get("$ref", "").rsplit("/", 1)[-1],
                    }
                    for field, definition in schema.get("properties", {}).items()
                ],
            }
        )
    return schemas


@bp.get("/docs")
def docs():
    """The API's reference for people, drawn from its OpenAPI description."""
    spec = openapi_description()
    return render_template(
        "api/docs.html",
        info=spec["info"],
        tags=spec.get("tags", []),
        operations=_operations(spec),
        schemas=_schemas(spec),
        problem_media=PROBLEM_JSON,
    )

"""The one error shape of every congso API: RFC 9457 problem+json.

`Problem` is raised by views; `http_error` turns it (and werkzeug's and webargs' errors)
into a response; `ProblemApi` documents that shape in the OpenAPI document.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify, request
from flask_smorest import Api
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException

from shared.errors import DomainError, status_of

MAX_BODY = 64 * 1024
PROBLEM_JSON = "application/problem+json"


class Problem(HTTPException):
    """An HTTP error answered as RFC 9457 problem+json."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        errors: dict[str, list[str]] | list[dict] | None = None,
        slug: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(description=detail)
        self.code = status
        self.title = title
        self.errors = errors
        self.slug = slug
        self.extra_headers = headers or {}


def problem_response(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    errors: dict[str, list[str]] | list[dict] | None = None,
    slug: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Build a problem+json response."""
    from http import HTTPStatus

    body: dict[str, Any] = {
        "type": f"/problems/{slug}" if slug else "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    rid = getattr(g, "request_id", None)
    if rid:
        body["request_id"] = rid
    resp = jsonify(body)
    resp.status_code = status
    resp.mimetype = PROBLEM_JSON
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow's nested messages into {"a.b": ["message", ...]}."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key == "_schema":  # marshmallow's messages about the object itself
                name = prefix or "_body"
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            for k, v in flatten_errors(value, name).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(messages, list | tuple):
        for item in messages:
            if isinstance(item, dict | list):
                for k, v in flatten_errors(item, prefix).items():
                    out.setdefault(k, []).extend(v)
            else:
                out.setdefault(prefix or "_body", []).append(str(item))
    else:
        out.setdefault(prefix or "_body", []).append(str(messages))
    return out


class ProblemSchema(Schema):
    """RFC 9457 problem details, as every error is answered."""

    type = fields.String(metadata={"example": "/problems/validation-error"})
    title = fields.String(metadata={"example": "Unprocessable Entity"})
    status = fields.Integer(metadata={"example": 422})
    detail = fields.String()
    errors = fields.Raw(metadata={"description": "{field: [messages]}; for an import, a list "
                                                 "of {row, field, message}"})
    request_id = fields.String()


class ProblemApi(Api):
    """flask-smorest Api whose errors are problem+json, and documented as such."""

    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error: HTTPException):
        return http_error(error)

    def _register_responses(self):
        # flask-smorest documents its own error shape as application/json; ours is
        # problem+json, so the components say so (same names, so every operation's
        # references still resolve).
        from http import HTTPStatus

        from flask_smorest.utils import prepare_response

        for status in HTTPStatus:
            response = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def domain_error(error: DomainError) -> Response:
    """A domain error as problem+json, its status from the one table in `shared.errors`."""
    return problem_response(status_of(error), error.detail, errors=error.errors,
                            slug=error.slug, headers=error.headers)


def http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if isinstance(error, Problem):
        return problem_response(status, error.description, title=error.title,
                                errors=error.errors, slug=error.slug,
                                headers=error.extra_headers)
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    if messages is not None:
        # webargs nests messages under the location ("json", "query"): drop that level.
        if isinstance(messages, dict) and set(messages) <= {"json", "query", "form", "files",
                                                           "headers", "view_args"}:
            flat: dict[str, list[str]] = {}
            for location_messages in messages.values():
                for k, v in flatten_errors(location_messages).items():
                    flat.setdefault(k, []).extend(v)
        else:
            flat = flatten_errors(messages)
        if status == 400:
            return problem_response(400, "The request body is not valid JSON.",
                                    slug="malformed-json")
        return problem_response(status, "Some fields are invalid; see errors.",
                                errors=flat, slug="validation-error")
    headers = {}
    valid_methods = getattr(error, "valid_methods", None)
    if status == 405 and valid_methods:
        headers["Allow"] = ", ".join(valid_methods)
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    detail = error.description or ""
    if status == 413:
        limit = request.max_content_length or MAX_BODY
        detail = f"The request body is larger than {limit // 1024} KiB."
    return problem_response(status, detail, headers=headers)

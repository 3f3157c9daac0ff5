"""What every congso HTTP app shares: problem+json errors, bearer auth, health and metrics.

`create_base_app` returns a Flask app and its flask-smorest `Api` with all of that wired;
each service then registers its own blueprints on them.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, g, jsonify, request
from flask_smorest import Api
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.routing import UnicodeConverter

from shared import logs, metrics
from shared.config import Settings

logger = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
PROBLEM_JSON = "application/problem+json"
JSON_TYPES = ("application/json",)


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


# --- authentication ---------------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    role: str  # "admin" or "official"
    subject: str | None = None  # the official's code


TokenResolver = Callable[[str], Principal | None]


def token_digest(token: str) -> str:
    """The stored form of a token: its SHA-256 (tokens are random, so no salt is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def _resolve(token: str) -> Principal | None:
    from flask import current_app

    admin_digest = current_app.config["CONGSO_ADMIN_DIGEST"]
    if hmac.compare_digest(token_digest(token), admin_digest):
        return Principal("admin")
    for resolver in current_app.config["CONGSO_TOKEN_RESOLVERS"]:
        principal = resolver(token)
        if principal is not None:
            return principal
    return None


def current_principal() -> Principal | None:
    """Who the request's bearer token acts as (None: no or invalid token); once per request."""
    if "_principal" in g:
        return g._principal
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    principal = None
    if scheme.lower() == "bearer" and token.strip():
        principal = _resolve(token.strip())
    g._principal = principal
    return principal


def require(*roles: str):
    """Allow the view only to a bearer token of one of `roles`; sets `g.principal`."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not request.headers.get("Authorization"):
                raise Problem(401, "This endpoint needs an Authorization: Bearer token.",
                              headers={"WWW-Authenticate": "Bearer"})
            principal = current_principal()
            if principal is None:
                raise Problem(401, "The bearer token is not valid.",
                              headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
            if principal.role not in roles:
                raise Problem(403, f"This endpoint is for: {', '.join(roles)}.")
            g.principal = principal
            return view(*args, **kwargs)

        wrapper._congso_roles = roles
        return wrapper

    return decorator


SECURITY = [{"bearerAuth": []}]

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class CodeConverter(UnicodeConverter):
    """A code in a path: matched like any segment (a bad one is answered 422, not 404),
    documented in OpenAPI with its pattern."""


class PeriodConverter(UnicodeConverter):
    """A period in a path (YYYY, YYYY-Qn, YYYY-MM)."""


def _register_converters(app: Flask, api: Api) -> None:
    app.url_map.converters["code"] = CodeConverter
    app.url_map.converters["period"] = PeriodConverter
    api.register_converter(CodeConverter, lambda converter: {
        "type": "string", "pattern": CODE_PATTERN, "maxLength": 64})
    api.register_converter(PeriodConverter, lambda converter: {
        "type": "string", "pattern": r"^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$"})


def check_code(value: str, field: str = "code") -> None:
    """422 unless a code in the path is a valid code (letters, digits, '.', '_', '-')."""
    from shared.events import CODE

    try:
        CODE(value)
    except Exception:
        raise Problem(422, f"The {field} in the path is not valid.",
                      errors={field: [CODE.error]}, slug="validation-error") from None


def body_limit(max_bytes: int):
    """Allow a larger body than the default 64 KiB on one endpoint (file imports)."""

    def decorator(view):
        view._congso_body_limit = max_bytes
        return view

    return decorator


def body_types(*mimetypes: str):
    """Declare the content types a write endpoint accepts (default: JSON)."""

    def decorator(view):
        view._congso_body_types = mimetypes
        return view

    return decorator


# --- the app ----------------------------------------------------------------------


def create_base_app(settings: Settings, *, service: str, title: str) -> tuple[Flask, ProblemApi]:
    """Create a Flask app and Api with errors, auth, health, readiness and metrics."""
    app = Flask(service)
    app.config.update(
        API_TITLE=title,
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        MAX_CONTENT_LENGTH=MAX_BODY,
        CONGSO_ADMIN_DIGEST=token_digest(settings.admin_token),
        CONGSO_TOKEN_RESOLVERS=[],
        CONGSO_READINESS={},
        CONGSO_SERVICE=service,
        CONGSO_SETTINGS=settings,
    )
    from shared.runtime import Runtime

    app.extensions["congso.runtime"] = Runtime(service)
    if settings.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_prefix=n)
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    api = ProblemApi(app, spec_kwargs={"info": {"description": f"congso {service} service"}})
    _register_converters(app, api)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer"}
    )
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, _unexpected_error)
    app.before_request(_before_request)
    app.after_request(_after_request)

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok", service=service)

    @app.get("/readyz")
    def readyz():
        checks = {name: bool(check()) for name, check in app.config["CONGSO_READINESS"].items()}
        ready = all(checks.values())
        resp = jsonify(status="ready" if ready else "not ready", checks=checks)
        resp.status_code = 200 if ready else 503
        return resp

    @app.get("/metrics")
    def metrics_endpoint():
        body, content_type = metrics.render()
        return Response(body, content_type=content_type)

    return app, api


def runtime_of(app: Flask):
    """The background components of the service(s) served by `app`."""
    return app.extensions["congso.runtime"]


def add_readiness_check(app: Flask, name: str, check: Callable[[], bool]) -> None:
    app.config["CONGSO_READINESS"][name] = check


def add_token_resolver(app: Flask, resolver: TokenResolver) -> None:
    app.config["CONGSO_TOKEN_RESOLVERS"].append(resolver)


def _new_request_id() -> str:
    # unique, not secret: 128 random bits without a getrandom(2) call per request
    return f"{random.getrandbits(128):032x}"


def _before_request():
    incoming = request.headers.get("X-Request-ID", "")
    # a caller's id is kept if it is a sane token, else a new one is made
    g.request_id = incoming if 0 < len(incoming) <= 128 and incoming.isprintable() else \
        _new_request_id()
    logs.request_id.set(g.request_id)
    g.started = time.perf_counter()
    if request.method in ("POST", "PUT", "PATCH"):
        from flask import current_app

        view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
        roles = getattr(view, "_congso_roles", None)
        if roles is not None:
            principal = current_principal()
            if principal is None or principal.role not in roles:
                return  # the view answers 401 or 403 before looking at the body
        limit = getattr(view, "_congso_body_limit", MAX_BODY)
        request.max_content_length = limit
        length = request.content_length
        if length is not None and length > limit:
            raise Problem(413, f"The request body is larger than {limit // 1024} KiB.")
        has_body = bool(length) or "chunked" in request.headers.get("Transfer-Encoding", "")
        if view is not None and has_body:
            accepted = getattr(view, "_congso_body_types", JSON_TYPES)
            mimetype = request.mimetype
            json_like = accepted == JSON_TYPES and mimetype.endswith("+json")
            if mimetype not in accepted and not json_like:
                raise Problem(
                    400,
                    f"Content-Type must be {' or '.join(accepted)}, not {mimetype or 'missing'}.",
                    slug="unsupported-content-type",
                )
            if accepted == JSON_TYPES:
                _check_json_text(request.get_data(cache=True))


# "\ud800" escapes: JSON allows them, Python decodes them, but a lone one cannot be
# encoded as UTF-8, so no database or broker could store it.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _check_json_text(raw: bytes) -> None:
    """Refuse a JSON body that is not UTF-8 or holds an unpaired surrogate (RFC 8259 §8)."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Problem(400, "The request body is not valid UTF-8.", slug="malformed-json") from None
    if not _SURROGATE_ESCAPE.search(raw):
        return
    try:
        value = json.loads(raw)
    except ValueError:
        return  # the body parser reports malformed JSON itself
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise Problem(400, "The request body holds an unpaired UTF-16 surrogate escape.",
                      slug="malformed-json") from None


def _after_request(response: Response) -> Response:
    from flask import current_app

    response.headers.setdefault("X-Request-ID", getattr(g, "request_id", ""))
    started = getattr(g, "started", None)
    endpoint = request.url_rule.rule if request.url_rule else "unmatched"
    service = current_app.config["CONGSO_SERVICE"]
    metrics.HTTP_REQUESTS.labels(service, request.method, endpoint, response.status_code).inc()
    if started is not None:
        metrics.HTTP_LATENCY.labels(service, request.method, endpoint).observe(
            time.perf_counter() - started
        )
    return response


def _unexpected_error(error: Exception) -> Response:
    from pymongo.errors import ConnectionFailure

    if isinstance(error, HTTPException):
        return http_error(error)
    if isinstance(error, ConnectionFailure):
        logger.warning("database unreachable on %s %s: %s", request.method, request.path, error)
        return problem_response(503, "The database is unreachable; try again shortly.",
                                slug="database-unavailable", headers={"Retry-After": "5"})
    logger.exception("unhandled error on %s %s", request.method, request.path)
    return http_error(InternalServerError("An unexpected error occurred; it has been logged."))

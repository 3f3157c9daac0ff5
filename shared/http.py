"""What every congso HTTP app shares: problem+json errors (`shared.problems`), bearer auth
(`shared.auth`), request ids, body checks, health, readiness and metrics.

`create_base_app` returns a Flask app and its flask-smorest `Api` with all of that wired;
each service then registers its own blueprints on them.
"""

from __future__ import annotations

import hmac
import json
import logging
import random
import re
import time

from flask import Flask, Response, g, jsonify, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.routing import UnicodeConverter

from shared import logs, metrics
from shared.auth import allows, current_principal, token_digest
from shared.config import Settings
from shared.errors import DomainError
from shared.problems import (
    MAX_BODY,
    Problem,
    ProblemApi,
    domain_error,
    http_error,
    problem_response,
)
from shared.schemas import CODE, CODE_PATTERN

logger = logging.getLogger(__name__)

JSON_TYPES = ("application/json",)


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

    try:
        CODE(value)
    except Exception:
        raise Problem(422, f"The {field} in the path is not valid.",
                      errors={field: [CODE.error]}, slug="validation-error") from None


def total_count_header(what: str) -> dict:
    """The OpenAPI description of a paged list's X-Total-Count header."""
    return {"X-Total-Count": {"description": f"matching {what}", "schema": {"type": "integer"}}}


def set_total_count(total: int) -> None:
    """Answer this request with `X-Total-Count: total` (a paged list)."""
    g.congso_total_count = total


def personal(view):
    """Mark a view whose every call is one person's action (a review, a sign-in): it is
    left out of the HTTP metrics, which would otherwise date it."""
    view._congso_personal = True
    return view


def _metrics_token_ok(settings: Settings) -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    digest = token_digest(token.strip())
    allowed = [token_digest(settings.admin_token)]
    if settings.metrics_token:
        allowed.append(token_digest(settings.metrics_token))
    return any(hmac.compare_digest(digest, a) for a in allowed)


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
        CONGSO_ACCESS=None,
        CONGSO_SERVICE=service,
        CONGSO_SETTINGS=settings,
    )
    from shared.runtime import Runtime

    app.extensions["congso.runtime"] = Runtime(service)
    if settings.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.trusted_proxies
        # no prefix: congso is served at the root, so a prefix header is never trusted
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n,
                                x_prefix=0)
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    api = ProblemApi(app, spec_kwargs={"info": {"description": f"congso {service} service"}})
    _register_converters(app, api)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer"}
    )
    api.spec.components.security_scheme(
        "sessionCookie", {"type": "apiKey", "in": "cookie", "name": "congso_session",
                          "description": "the signed-in session; writes also need its "
                                         "CSRF value in X-CSRF-Token"})
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(DomainError, domain_error)
    app.register_error_handler(Exception, _unexpected_error)
    app.before_request(_before_request)
    app.after_request(_after_request)

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok", service=service)

    @app.get("/readyz")
    def readyz():
        checks = runtime_of(app).readiness()
        ready = all(checks.values())
        resp = jsonify(status="ready" if ready else "not ready", checks=checks)
        resp.status_code = 200 if ready else 503
        return resp

    @app.get("/metrics")
    def metrics_endpoint():
        # metrics say how busy each endpoint is: for operators (ADMIN_TOKEN or
        # METRICS_TOKEN, as Prometheus' `authorization` scrape setting sends it)
        if not _metrics_token_ok(settings):
            raise Problem(401, "Metrics need the admin or metrics bearer token.",
                          headers={"WWW-Authenticate": "Bearer"})
        body, content_type = metrics.render()
        return Response(body, content_type=content_type)

    return app, api


def runtime_of(app: Flask):
    """The background components of the service(s) served by `app`."""
    return app.extensions["congso.runtime"]


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
            if principal is None or not allows(principal, roles):
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


# No congso body nests deeper than a few levels; a parser recursing 5,000 levels down
# (`[[[[…`) fails with RecursionError, which would be a 500 and a traceback per request.
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(rb"[\[\]{}]")


def json_too_deep(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when arrays and objects in `raw` nest deeper than `limit`."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False  # the common case, decided at C speed
    depth = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub(b"", raw)):
        depth += 1 if bracket in (b"[", b"{") else -1
        if depth > limit:
            return True
    return False


def _check_json_text(raw: bytes) -> None:
    """Refuse a JSON body that is not UTF-8, nests too deep, or holds an unpaired surrogate
    (RFC 8259 §8)."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Problem(400, "The request body is not valid UTF-8.", slug="malformed-json") from None
    if json_too_deep(raw):
        raise Problem(400, f"The request body nests deeper than {MAX_JSON_DEPTH} levels.",
                      slug="malformed-json")
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
    if "congso_total_count" in g:
        response.headers["X-Total-Count"] = str(g.congso_total_count)
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    if getattr(view, "_congso_personal", False):
        return response
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
    # the route's rule, never the path: a path may hold a secret (a sign-in link)
    where = request.url_rule.rule if request.url_rule else "(no route)"
    if isinstance(error, ConnectionFailure):
        logger.warning("database unreachable on %s %s: %s", request.method, where, error)
        return problem_response(503, "The database is unreachable; try again shortly.",
                                slug="database-unavailable", headers={"Retry-After": "5"})
    logger.exception("unhandled error on %s %s", request.method, where)
    return http_error(InternalServerError("An unexpected error occurred; it has been logged."))

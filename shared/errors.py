"""Errors the domain raises, free of HTTP: stores and domain modules raise these, and one
table (`STATUS`, used by `shared.problems`) answers each as problem+json.

A domain error carries what a person needs to fix the request (`detail`, field errors)
and a stable `slug` that clients can match on (`/problems/<slug>`).
"""

from __future__ import annotations


class DomainError(Exception):
    """A rule refused the request; subclasses say which kind of refusal it is."""

    slug = "refused"

    def __init__(self, detail: str, *, field: str | None = None,
                 errors: dict[str, list[str]] | list[dict] | None = None,
                 slug: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.detail = detail
        if errors is None and field is not None:
            errors = {field: [detail]}
        self.errors = errors
        self.slug = slug or type(self).slug
        self.headers = headers or {}


class Invalid(DomainError):
    """A field's value breaks a rule (422)."""

    slug = "validation-error"


class NotFound(DomainError):
    """What the request names does not exist (404)."""

    slug = "not-found"


class Conflict(DomainError):
    """The request clashes with the stored state (409)."""

    slug = "conflict"


class Forbidden(DomainError):
    """The caller may not do this (403)."""

    slug = "not-allowed"


class Gone(DomainError):
    """It existed and can no longer be used (410): a used or expired link."""

    slug = "gone"


class RateLimited(DomainError):
    """Too many requests; `retry_after` seconds until the next one is accepted (429)."""

    slug = "rate-limited"

    def __init__(self, detail: str, retry_after: int, **kwargs):
        super().__init__(detail, **kwargs)
        self.retry_after = retry_after
        self.headers = {**self.headers, "Retry-After": str(retry_after)}


STATUS: dict[type[DomainError], int] = {
    Invalid: 422,
    NotFound: 404,
    Conflict: 409,
    Forbidden: 403,
    Gone: 410,
    RateLimited: 429,
}


def status_of(error: DomainError) -> int:
    """The HTTP status of a domain error (by the nearest class in `STATUS`)."""
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400

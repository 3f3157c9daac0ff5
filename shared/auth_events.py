"""Schemas of the events that carry identity and accountability between the services:
session keys, bearer tokens, revocations, sign-in links, notices to an official about
their own account, and audit records. None carries a secret: a token travels as its
SHA-256 digest, a sign-in link as a nonce that only a keyed MAC turns into a link.
"""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from shared.schemas import Code, Email, Lenient

KEYS_PUBLISHED = "auth.keys_published"
TOKEN_ISSUED = "auth.token_issued"
REVOKED = "auth.revoked"
LINK_REQUESTED = "auth.link_requested"
ACCOUNT_NOTICE = "account.notice"
AUDIT_RECORDED = "audit.recorded"

NOTICES = ("token_issued", "tokens_revoked", "email_changed")
PURPOSES = ("sign_in", "review.invitation", "review.reminder")
DIGEST = validate.Regexp(r"^[0-9a-f]{64}$", error="must be a SHA-256 hex digest")


class PublicKey(Lenient):
    kid = fields.String(required=True, validate=validate.Length(1, 64))
    public_key = fields.String(required=True, validate=validate.Length(1, 200))


class KeysPublished(Lenient):
    keys = fields.List(fields.Nested(PublicKey), required=True,
                       validate=validate.Length(1, 20))
    published_at = fields.AwareDateTime(required=True)


class TokenIssued(Lenient):
    official = Code(required=True)
    digest = fields.String(required=True, validate=DIGEST)
    issued_at = fields.AwareDateTime(required=True)


class Revoked(Lenient):
    """One session ended (sign-out), or an official's sessions and/or tokens begun
    before `at` (deactivation, `DELETE /officials/{code}/tokens`)."""

    at = fields.AwareDateTime(required=True)
    official = Code(load_default=None, allow_none=True)
    sessions = fields.Boolean(load_default=False)
    tokens = fields.Boolean(load_default=False)
    session = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(1, 64))
    until = fields.AwareDateTime(load_default=None, allow_none=True)

    @validates_schema
    def _something(self, data: dict, **kwargs) -> None:
        if not data.get("session") and not data.get("official"):
            raise ValidationError("names a session or an official")


class LinkRequested(Lenient):
    nonce = fields.String(required=True, validate=validate.Length(16, 64))
    official = Code(required=True)
    email = Email(required=True)
    full_name = fields.String(required=True, validate=validate.Length(1, 300))
    expires_at = fields.AwareDateTime(required=True)
    login_url = fields.Url(required=True, require_tld=False,
                           metadata={"description": "the link is this URL + its secret"})
    next = fields.String(load_default="/", validate=validate.Length(1, 300))
    # why the link is sent: asked for on /login, or with a review cycle's invitation or
    # reminder (then `context` has {year, assigned, done, pending, closes_at, extra})
    purpose = fields.String(load_default="sign_in", validate=validate.OneOf(PURPOSES))
    context = fields.Dict(load_default=dict)


class AccountNotice(Lenient):
    official = Code(required=True)
    full_name = fields.String(required=True, validate=validate.Length(1, 300))
    emails = fields.List(Email(), required=True, validate=validate.Length(1, 2))
    notice = fields.String(required=True, validate=validate.OneOf(NOTICES))
    at = fields.AwareDateTime(required=True)
    by = fields.String(required=True, validate=validate.Length(1, 100))
    details = fields.Dict(load_default=dict)


class AuditRecorded(Lenient):
    id = fields.String(required=True, validate=validate.Length(1, 64))
    at = fields.AwareDateTime(required=True)
    service = fields.String(required=True, validate=validate.OneOf(
        ["survey", "scoring", "notify"]))
    actor = fields.String(required=True, validate=validate.Length(1, 100))
    action = fields.String(required=True, validate=validate.Length(1, 64))
    target = fields.String(load_default=None, allow_none=True,
                           validate=validate.Length(max=200))
    details = fields.Dict(load_default=dict)
    address_hash = fields.String(load_default=None, allow_none=True)


SCHEMAS = {
    KEYS_PUBLISHED: KeysPublished(),
    TOKEN_ISSUED: TokenIssued(),
    REVOKED: Revoked(),
    LINK_REQUESTED: LinkRequested(),
    ACCOUNT_NOTICE: AccountNotice(),
    AUDIT_RECORDED: AuditRecorded(),
}

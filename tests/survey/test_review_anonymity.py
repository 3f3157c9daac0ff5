"""Trying to tell who reviewed whom from what survey shows: two reviewers of a colleague,
then a third, each view compared before and after (an administrator's and a manager's
API answers, the audit log, the reviewee's own pages); the metrics after reviews by page
and by token."""

from __future__ import annotations

import json
import re

from devkit.apps import ADMIN
from devkit.auth import signed_in
from shared import sessions
from tests.survey.cycle import SCORES, YEAR, bearer, open_window, ward

CSRF = re.compile(r'name=\\"csrf_token\\" value=\\"[^\\]*\\"')
VIEWS = ["/api/v1/audit?per_page=500", "/api/v1/officials", "/api/v1/units",
         f"/api/v1/review-cycles/{YEAR}/response"]


def snapshot(client, ctx, manager_headers) -> dict:
    """Everything an administrator, the unit's manager and the reviewee B can read."""
    seen = {path: client.get(path, headers=ADMIN).get_json() for path in VIEWS}
    signed_in(client, "M", ctx.signer)
    seen["manager"] = client.get(f"/api/v1/review-cycles/{YEAR}/response").get_json()
    seen["manager page"] = client.get(f"/reviews/response/{YEAR}").get_data(as_text=True)
    signed_in(client, "B", ctx.signer)
    seen["B list"] = client.get(f"/reviews/{YEAR}").get_data(as_text=True)
    seen["B assignments"] = client.get(f"/api/v1/peer-reviews/{YEAR}/assignments").get_json()
    client.delete_cookie(sessions.COOKIE)
    return seen


def counts_only(before: dict, after: dict) -> None:
    """The two snapshots differ in the response counts alone."""
    for view in before:
        if view in (f"/api/v1/review-cycles/{YEAR}/response", "manager", "manager page"):
            continue
        # a page's CSRF value is its session's, new at each sign-in
        text_before, text_after = (CSRF.sub("", json.dumps(seen[view], sort_keys=True,
                                                           ensure_ascii=False))
                                   for seen in (before, after))
        assert text_before == text_after, view
    for view in (f"/api/v1/review-cycles/{YEAR}/response", "manager"):
        for row_before, row_after in zip(before[view], after[view], strict=True):
            assert {k for k in row_before if row_before[k] != row_after[k]} <= {
                "finished", "in_progress", "not_started"}


def test_a_review_shows_in_nothing_but_the_counts(client, ctx):
    ward(client)
    for code in ("D1", "D2"):
        client.put(f"/api/v1/officials/{code}", headers=ADMIN, json={
            "full_name": f"Cán bộ {code}", "unit": "U1", "email": f"{code.lower()}@example.vn"})
    open_window(client)
    tokens = {code: bearer(client, code) for code in ("A", "C", "D1")}
    manager = signed_in(client, "M", ctx.signer)
    before = snapshot(client, ctx, manager)
    for reviewer in ("A", "C", "D1"):  # two reviewers, then a third
        r = client.put(f"/api/v1/peer-reviews/{YEAR}/B", headers=tokens[reviewer],
                       json={"scores": SCORES, "comment": f"Nhận xét của {reviewer}"})
        assert r.status_code == 201
        after = snapshot(client, ctx, manager)
        counts_only(before, after)
        for text in map(json.dumps, after.values()):
            assert "Nhận xét của" not in text  # no comment anywhere in survey's views
        before = after


def test_reviewing_is_never_counted_in_the_metrics(client, ctx):
    ward(client)
    open_window(client)
    a = bearer(client, "A")
    client.put(f"/api/v1/peer-reviews/{YEAR}/B", json={"scores": SCORES}, headers=a)
    client.get(f"/api/v1/peer-reviews/{YEAR}/assignments", headers=a)
    client.get(f"/api/v1/peer-reviews/{YEAR}/B", headers=a)
    csrf = signed_in(client, "C", ctx.signer)[sessions.CSRF_HEADER]
    client.get(f"/reviews/{YEAR}")
    client.get(f"/reviews/{YEAR}/B")
    assert client.post(f"/reviews/{YEAR}/B", data={
        sessions.CSRF_FIELD: csrf, "conduct": "4", "action": "save"}).status_code == 303
    client.delete_cookie(sessions.COOKIE)
    metrics = client.get("/metrics", headers=ADMIN).get_data(as_text=True)
    http = [line for line in metrics.splitlines() if line.startswith("congso_http_")]
    assert http  # the counters are there: the ward's writes are in them
    personal = ('endpoint="/reviews/<year>"', 'endpoint="/reviews/<year>/<reviewee>"',
                "peer-reviews")
    assert not [line for line in http if any(p in line for p in personal)]

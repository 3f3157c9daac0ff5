"""Official tokens: issued once, stored hashed, revocable; counter token rotation."""

from devkit.apps import ADMIN
from services.survey.documents import OfficialToken


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_official_token_is_shown_once_and_stored_only_hashed(client, token):
    r = client.post("/api/v1/officials/CB1/tokens", headers=ADMIN)
    assert r.status_code == 201
    secret = r.get_json()["token"]
    stored = list(OfficialToken._get_collection().find())
    assert len(stored) == 1
    assert secret not in str(stored)
    assert client.get("/api/v1/peer-reviews/2026/assignments",
                      headers=bearer(secret)).status_code == 200


def test_revoked_token_no_longer_works(client, token):
    secret = client.post("/api/v1/officials/CB1/tokens", headers=ADMIN).get_json()["token"]
    r = client.delete("/api/v1/officials/CB1/tokens", headers=ADMIN)
    assert r.status_code == 200 and r.get_json()["revoked"] == 1
    assert client.get("/api/v1/peer-reviews/2026/assignments",
                      headers=bearer(secret)).status_code == 401


def test_token_of_an_inactive_official_no_longer_works(client, token):
    secret = client.post("/api/v1/officials/CB1/tokens", headers=ADMIN).get_json()["token"]
    client.put("/api/v1/officials/CB1", json={"full_name": "A", "unit": "U1", "active": False},
               headers=ADMIN)
    assert client.get("/api/v1/peer-reviews/2026/assignments",
                      headers=bearer(secret)).status_code == 401


def test_token_for_an_unknown_official_is_404(client, token):
    assert client.post("/api/v1/officials/NOPE/tokens", headers=ADMIN).status_code == 404


def test_official_token_is_not_an_admin_token(client, token):
    secret = client.post("/api/v1/officials/CB1/tokens", headers=ADMIN).get_json()["token"]
    r = client.put("/api/v1/units/U1", json={"name": "x"}, headers=bearer(secret))
    assert r.status_code == 403 and r.mimetype == "application/problem+json"

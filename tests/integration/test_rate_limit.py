"""Login attempts are rate-limited (HTML form and API), with a French message."""
import html

from tests.conftest import make_test_app


def test_login_rate_limit(sqlite_template, tmp_path):
    import shutil

    template, _world = sqlite_template
    shutil.copy(template, tmp_path / "db.sqlite")
    app = make_test_app(f"sqlite:///{tmp_path / 'db.sqlite'}", RATELIMIT_ENABLED=True,
                        AUTH_RATE_LIMITED=True, AUTH_RATE_LIMIT="3 per 1 minute")
    client = app.test_client()
    codes = [client.post("/login/", data={"username": "x", "password": "y"}).status_code
             for _ in range(4)]
    assert codes[:3] == [302, 302, 302] and codes[3] == 429
    page = html.unescape(client.post("/login/", data={"username": "x", "password": "y"})
                         .get_data(as_text=True))
    assert "Trop de tentatives" in page
    api = [client.post("/api/v1/security/login", json={"username": "x", "password": "y",
                                                        "provider": "db"}).status_code
           for _ in range(4)]
    assert api[3] == 429


def test_public_verification_is_rate_limited(sqlite_template, tmp_path):
    """Certificate numbers are sequential: one address may not walk through them."""
    import shutil

    template, _world = sqlite_template
    shutil.copy(template, tmp_path / "db.sqlite")
    app = make_test_app(f"sqlite:///{tmp_path / 'db.sqlite'}", RATELIMIT_ENABLED=True,
                        CLEA_VERIFY_RATE_LIMIT="5 per 1 minute")
    client = app.test_client()
    codes = [client.get(f"/verifier/CLEA-2026-{i:06d}").status_code for i in range(6)]
    assert codes[:5] == [404] * 5 and codes[5] == 429
    assert "Trop de tentatives" in html.unescape(
        client.get("/verifier/CLEA-2026-000001").get_data(as_text=True))

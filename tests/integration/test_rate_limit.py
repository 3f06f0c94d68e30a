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

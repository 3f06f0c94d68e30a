"""Production hashes passwords with scrypt; only the test configuration (TestConfig) uses a
cheap pbkdf2, so that the suite's thousands of logins do not cost 0.1-0.25 s each."""
from __future__ import annotations

import shutil

import pytest

from tests.world import PASSWORD


@pytest.fixture
def production_app(sqlite_template, tmp_path):
    """The production configuration (config.Config) on a copy of the test database."""
    import config
    from app import create_app
    from app.extensions import db

    template, _world = sqlite_template
    shutil.copy(template, tmp_path / "db.sqlite")
    app = create_app(config.Config, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'db.sqlite'}",
                     WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False, AUTH_RATE_LIMITED=False,
                     CLEA_REDIS_URL="", RATELIMIT_STORAGE_URI="memory://", MAIL_SERVER=None,
                     UPLOAD_DIR=str(tmp_path / "uploads"))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def test_production_stores_scrypt_hashes_and_logs_in_with_them(production_app):
    from app.security import roles as R
    from app.services import accounts
    from tests.world import user

    assert production_app.config["CLEA_PASSWORD_HASH_METHOD"] == "scrypt"
    # FAB's dummy digest for unknown logins is a scrypt one too: same cost, same answer time.
    assert production_app.config["AUTH_DB_FAKE_PASSWORD_HASH_CHECK"].startswith("scrypt:")
    accounts.create_user({"username": "hash_prod", "first_name": "Hachage",
                          "last_name": "Production", "email": "hash_prod@test.fr",
                          "role": R.CERTIF_PRO.code}, by=None, password=PASSWORD)
    assert user("hash_prod").password.startswith("scrypt:32768:8:1$")

    client = production_app.test_client()
    refused = client.post("/login/", data={"username": "hash_prod", "password": PASSWORD + "x"})
    assert refused.status_code == 302 and "/login/" in refused.headers["Location"]
    assert "Bonjour" not in client.get("/").get_data(as_text=True)
    accepted = client.post("/login/", data={"username": "hash_prod", "password": PASSWORD})
    assert accepted.status_code == 302 and "/login/" not in accepted.headers["Location"]
    assert "Bonjour Hachage" in client.get("/").get_data(as_text=True)


def test_only_the_test_configuration_hashes_cheaply(app, world):
    """The test world's accounts are pbkdf2 (TestConfig), the production default stays."""
    import config
    from tests.world import user

    assert config.Config.CLEA_PASSWORD_HASH_METHOD == "scrypt"
    assert "AUTH_DB_FAKE_PASSWORD_HASH_CHECK" not in vars(config.Config)
    assert app.config["CLEA_PASSWORD_HASH_METHOD"] == "pbkdf2:sha256:1000"
    assert user(world.usernames["certif_pro"]).password.startswith("pbkdf2:sha256:1000$")

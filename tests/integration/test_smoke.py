import pytest

from tests.conftest import BACKENDS


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_login_page_is_french(app):
    response = app.test_client().get("/login/")
    assert response.status_code == 200
    assert "Connexion à la plateforme CléA" in response.text
    assert "Mot de passe oublié" in response.text

"""An application dropped is freed whole: the process-wide extensions keep nothing of it (the
suite builds an app per test; a kept one cost 20 000 objects a test and seconds-long full
garbage collections)."""
from __future__ import annotations

import gc
import weakref

from tests.conftest import make_test_app


def test_a_dropped_app_leaves_neither_its_blueprints_nor_its_appbuilder(tmp_path):
    app = make_test_app(f"sqlite:///{tmp_path / 'db.sqlite'}")
    api = app.blueprints["ReseauApi"]
    from app.extensions import csrf

    assert api in csrf._exempt_blueprints  # the REST API stays CSRF-exempt while its app lives
    kept = [weakref.ref(api), weakref.ref(app.appbuilder), weakref.ref(app)]
    del app, api
    gc.collect()
    assert [ref() for ref in kept] == [None, None, None]

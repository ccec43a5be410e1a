"""What the app holds for its whole life is kept out of the garbage collector's passes once it serves."""

from __future__ import annotations

import gc

from litestar.testing import TestClient

from service.http.app import create_app
from service.loading.engine import build_engine
from service.settings import Settings
from tests.conftest import CATALOGUE, RULES


def test_a_started_app_and_its_engine_are_frozen_out_of_the_collectors_passes() -> None:
    engine = build_engine(CATALOGUE, RULES)
    app = create_app(Settings(database_url="sqlite://"), engine=engine)
    gc.unfreeze()  # as if the engine had been built by other means: the app's start freezes it with the rest
    assert any(o is engine for o in gc.get_objects())
    try:
        with TestClient(app) as client:
            assert client.get("/health").status_code == 200
            tracked = gc.get_objects()
            assert not any(o is engine for o in tracked)
            assert not any(o is app for o in tracked)
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()

"""A database migrated from the schema before the apps' moves (issue 21) ends identical to a
fresh one, and keeps its rows: each database is built by ``tests.migration_states`` in
processes of its own, on SQLite files, or on MariaDB databases when the run is on MariaDB."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from tests.migration_states import ORPHAN_ORDER_NUMBER

ROOT = Path(__file__).resolve().parent.parent


def _step(database_url: str, step: str) -> dict:
    env = {**os.environ, "DATABASE_URL": database_url}
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed module
        [sys.executable, "-m", "tests.migration_states", step],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{step} failed:\n{done.stderr[-3000:]}"
    return json.loads(done.stdout) if done.stdout.strip() else {}


@pytest.fixture
def database_urls(tmp_path, django_db_blocker) -> Iterator[tuple[str, str]]:
    """Two empty databases: a fresh one and one to upgrade."""
    if connection.vendor == "sqlite":
        yield tuple(f"sqlite:///{tmp_path / name}.sqlite3" for name in ("fresh", "upgraded"))
        return
    base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    # The test user may create databases named like the test database (.ci/run's grants).
    names = [f"{connection.settings_dict['NAME']}_{which}" for which in ("fresh", "upgraded")]
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        for name in names:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    try:
        yield f"{base}/{names[0]}", f"{base}/{names[1]}"
    finally:
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            for name in names:
                cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")


def test_an_upgraded_database_ends_identical_to_a_fresh_one_and_keeps_its_rows(database_urls):
    fresh, upgraded = database_urls
    _step(fresh, "fresh")
    _step(upgraded, "before")
    seeded = _step(upgraded, "seed")
    _step(upgraded, "upgrade")

    fresh_dump, upgraded_dump = _step(fresh, "dump"), _step(upgraded, "dump")
    for part in ("tables", "content_types", "permissions", "groups", "migrations"):
        assert upgraded_dump[part] == fresh_dump[part], part

    after = _step(upgraded, "redemptions")
    # The redemption found its order; the one whose order was gone went.
    assert after["redemptions"] == [["SAVE5", seeded["order"], "alice@example.com"]]
    assert ORPHAN_ORDER_NUMBER not in json.dumps(after)
    # The model's content type moved with it: its permissions and admin history still hold.
    assert after["content_type_id"] == seeded["content_type_id"]

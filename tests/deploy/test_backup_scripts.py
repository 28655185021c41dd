"""deploy/backup.sh and deploy/restore.sh without a database: arguments, DATABASE_URL parsing
and the client option file. The backup and restore themselves run against a real MariaDB in
test_prod_local.py."""

import shutil
import subprocess
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DEPLOY = BASE_DIR / "deploy"
ERROR_URL = "DATABASE_URL must be mysql://user:password@host[:port]/name"


def _bash(script: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own scripts
        ["bash", "-c", script],  # noqa: S607
        cwd=BASE_DIR,
        env={"PATH": "/usr/bin:/bin:/usr/sbin", **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def _parsed(url: str) -> dict[str, str]:
    result = _bash(
        'source deploy/db-url.sh; db_url_parse "$URL"; '
        'printf "%s\\n" "$DB_USER" "$DB_PASSWORD" "$DB_HOST" "$DB_PORT" "$DB_NAME"',
        URL=url,
    )
    assert result.returncode == 0, result.stderr
    fields = result.stdout.removesuffix("\n").split("\n")
    return dict(zip(["user", "password", "host", "port", "name"], fields, strict=True))


def test_database_url_is_split_into_its_parts():
    parsed = _parsed("mysql://shop:s3cret@db.internal:3307/smartcart")

    assert parsed == {
        "user": "shop",
        "password": "s3cret",
        "host": "db.internal",
        "port": "3307",
        "name": "smartcart",
    }


def test_database_url_without_port_uses_3306_and_ignores_options():
    parsed = _parsed("mysql://shop:pw@127.0.0.1/smartcart?charset=utf8mb4")

    assert (parsed["port"], parsed["name"]) == ("3306", "smartcart")


def test_percent_encoded_password_is_decoded():
    assert _parsed("mysql://shop:p%40ss%3Aw%2Frd%25@db/smartcart")["password"] == "p@ss:w/rd%"


@pytest.mark.skipif(
    shutil.which("my_print_defaults") is None,
    reason="my_print_defaults not installed (apt-get install mariadb-client)",
)
def test_option_file_gives_the_client_the_exact_password(tmp_path):
    """MariaDB's own option parser reads back a password full of quotes and backslashes."""
    password = 'a"b\\c d#e'
    result = _bash(
        'source deploy/db-url.sh; DB_USER=shop DB_PASSWORD="$PW" DB_HOST=db DB_PORT=3306; '
        'file=$(db_option_file "$DIR"); stat -c %a "$file"; '
        'my_print_defaults --defaults-file="$file" client',
        PW=password,
        DIR=str(tmp_path),
    )

    assert result.returncode == 0, result.stderr
    mode, *options = result.stdout.splitlines()
    assert mode == "600"
    assert f"--password={password}" in options
    assert "--user=shop" in options and "--protocol=tcp" in options


@pytest.mark.parametrize("script", ["backup.sh", "restore.sh var/none.sql.gz"])
def test_scripts_refuse_a_database_url_that_is_not_mysql(script, tmp_path):
    dump = tmp_path / "x.sql.gz"
    dump.write_bytes(
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    )
    command = f"deploy/{script.replace('var/none.sql.gz', str(dump))}"

    result = _bash(
        command, DATABASE_URL="sqlite:///var/smartcart.sqlite3", BACKUP_DIR=str(tmp_path)
    )

    assert result.returncode == 1
    assert ERROR_URL in result.stderr


def test_backup_refuses_without_database_url(tmp_path):
    result = _bash("deploy/backup.sh", BACKUP_DIR=str(tmp_path))

    assert result.returncode == 1
    assert "DATABASE_URL is not set" in result.stderr


def test_backup_refuses_a_keep_count_below_one(tmp_path):
    result = _bash(
        "deploy/backup.sh",
        DATABASE_URL="mysql://a:b@h/d",
        BACKUP_DIR=str(tmp_path),
        BACKUP_KEEP="0",
    )

    assert result.returncode == 1
    assert "BACKUP_KEEP must be a whole number of at least 1" in result.stderr


def test_restore_refuses_a_file_that_is_not_gzip(tmp_path):
    dump = tmp_path / "broken.sql.gz"
    dump.write_text("not gzip")

    result = _bash(f"deploy/restore.sh {dump}", DATABASE_URL="mysql://a:b@h/d")

    assert result.returncode == 1
    assert "is not a complete gzip file" in result.stderr


def test_database_url_is_read_from_dot_env_when_not_set(tmp_path):
    """As the settings do: cron then needs no copy of the password."""
    shutil.copytree(DEPLOY, tmp_path / "deploy")
    (tmp_path / ".env").write_text("SECRET_KEY=x\nDATABASE_URL='sqlite:///var/db.sqlite3'\n")

    result = _bash(f"{tmp_path}/deploy/backup.sh", BACKUP_DIR=str(tmp_path / "backups"))

    assert result.returncode == 1
    assert ERROR_URL in result.stderr

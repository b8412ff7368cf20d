"""Uploads leave no personal data behind: not when the client goes away mid-upload, not when
the server is killed mid-import, and what a killed process left is removed at the next start.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from app import ROOT
from app.extensions import db
from tests.scratch import app_for, create_database, drop_database, invoke, scratch_url


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def temp_files_holding(marker: bytes, since: float, spool: Path) -> list[Path]:
    """Files in the system temp folder (outside the spool, which pytest puts there too),
    made since the test began, that hold the marker."""
    found = []
    for path in Path(tempfile.gettempdir()).rglob("*"):
        try:
            if (
                path.is_file()
                and not path.is_relative_to(spool)
                and path.stat().st_mtime >= since - 1
                and path.stat().st_size < 64 << 20
                and marker in path.read_bytes()
            ):
                found.append(path)
        except OSError:
            continue
    return found


def open_files_under(folder: Path) -> list[str]:
    """This process's open files whose path lies in the folder (deleted ones included)."""
    links = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            links.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            continue
    return [link for link in links if link.startswith(f"{folder}/")]


def test_start_removes_what_a_killed_process_left_and_keeps_a_living_ones(database_url, tmp_path):
    root = tmp_path / "spool"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from app.spool import Spool\n"
            "spool = Spool(Path(sys.argv[1]))\n"
            "(spool.folder / 'request-1').mkdir()\n"
            "(spool.folder / 'request-1' / 'wangge-upload-1.csv').write_text('张三,13800000000')\n"
            "print(spool.folder, flush=True)\n"
            "time.sleep(120)\n",
            str(root),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        their_folder = Path(worker.stdout.readline().strip())
        loose = root / "wangge-upload-old.csv"
        loose.write_text("李四,13900000000")

        app = app_for(database_url, tmp_path, WANGGE_UPLOAD_TMP=str(root))
        # the other process is alive: its folder stays; the loose file goes
        assert (their_folder / "request-1" / "wangge-upload-1.csv").exists()
        assert not loose.exists()
        own = app.extensions["wangge_spool"].folder
        assert own.parent == root and own != their_folder
        assert root.stat().st_mode & 0o777 == 0o700
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    app_for(database_url, tmp_path, WANGGE_UPLOAD_TMP=str(root))
    assert not their_folder.exists()
    assert files_under(root) == []
    assert own.exists()  # this process is still alive


def multipart_head(boundary: str, declared: int) -> bytes:
    return (
        "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {declared}\r\n\r\n"
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="households.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()


def test_an_upload_cut_off_mid_body_leaves_no_file(database_url, tmp_path):
    root = tmp_path / "spool"
    app = app_for(database_url, tmp_path, WANGGE_UPLOAD_TMP=str(root))
    own = app.extensions["wangge_spool"].folder
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    began = time.time()
    marker = f"MARKER-{uuid.uuid4().hex}".encode()
    rows = b"".join(b"%d,%s,13800000000\n" % (i, marker) for i in range(40_000))
    try:
        with socket.create_connection(("127.0.0.1", server.port)) as client:
            # declares 4 MB, sends the headers and ~2 MB of the file, then hangs up
            client.sendall(multipart_head("xyz", 4 << 20) + rows[: 2 << 20])
            deadline = time.monotonic() + 10
            spooled = []
            while not spooled and time.monotonic() < deadline:
                spooled = open_files_under(own)
                time.sleep(0.02)
            # the part is spooled to disk, in this request's own folder
            assert spooled, "the upload was not spooled into the app's folder"
            assert all("/request-" in path for path in spooled)
        deadline = time.monotonic() + 10
        while (list(own.iterdir()) or open_files_under(own)) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert list(own.iterdir()) == []
        assert open_files_under(own) == []
        assert temp_files_holding(marker, began, root) == []
        # the server is fine afterwards
        assert requests.get(f"http://127.0.0.1:{server.port}/login", timeout=10).status_code == 200
    finally:
        server.shutdown()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="module")
def city(database_url, tmp_path_factory):
    """A small demo city in a database of its own (the import must commit), dropped after."""
    url = scratch_url(database_url, "spool")
    create_database(url)
    try:
        app = app_for(url, tmp_path_factory.mktemp("spool"))
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            db.engine.dispose()
        assert invoke(app, "demo", "--households", "100", "--seed", "7").exit_code == 0
        token = invoke(app, "issue-token", "admin").stdout.strip().splitlines()[-1]
        yield {"url": url, "token": token}
    finally:
        drop_database(url)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_server_killed_mid_import_leaves_the_file_only_where_the_next_start_removes_it(
    city, tmp_path
):
    root = tmp_path / "spool"
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": city["url"],
        "WANGGE_UPLOAD_TMP": str(root),
        "SECRET_KEY": "test-secret",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "run", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    began = time.time()
    marker = f"MARKER-{uuid.uuid4().hex}"
    header = "external_id,lon,lat,address,head_name,phone,members,tags\n"
    body = header + "".join(
        f"K{i},105.97{i % 1000:03d},31.57{i // 1000:03d},{marker} {i}号,{marker},13800000000,3,\n"
        for i in range(150_000)
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        upload = threading.Thread(
            target=lambda: _post_quietly(
                f"http://127.0.0.1:{port}/api/v1/households/import",
                city["token"],
                body.encode(),
            ),
            daemon=True,
        )
        upload.start()
        # wait for the import's copy of the file, wherever it is written, then kill -9
        copies = []
        deadline = time.monotonic() + 60
        while not copies and time.monotonic() < deadline:
            copies = list(root.rglob("wangge-upload-*")) + list(
                Path(tempfile.gettempdir()).glob("wangge-upload-*.csv")
            )
            copies = [c for c in copies if c.exists() and c.stat().st_mtime >= began - 1]
        assert copies, "the import never copied the upload"
        server.send_signal(signal.SIGKILL)
        server.wait()
        upload.join(30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()

    assert temp_files_holding(marker.encode(), began, root) == []  # nothing in the system temp
    app_for(city["url"], tmp_path, WANGGE_UPLOAD_TMP=str(root))  # the next start
    assert [p for p in files_under(root) if marker.encode() in p.read_bytes()] == []
    assert files_under(root) == []


def _post_quietly(url: str, token: str, data: bytes) -> None:
    with contextlib.suppress(requests.RequestException):  # the server is killed under it
        requests.post(
            url,
            headers={"Authorization": f"Bearer {token}"},
            files={"file": ("households.csv", data, "text/csv")},
            timeout=60,
        )

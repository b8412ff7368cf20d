"""Where uploads and the files made from them are written: a folder of the app's own.

Uploaded files hold personal data (a household CSV is names, addresses and phone numbers).
They are never spooled into the system temp folder, where a process killed mid-request
leaves them for anyone to find. Instead:

- the folder is ``WANGGE_UPLOAD_TMP`` (default ``instance/uploads-tmp``), mode 0700;
- each process works in a subfolder of its own that it holds an exclusive ``flock`` on for
  as long as it lives (workers forked from it share it);
- each request that writes anything gets a subfolder of that, removed when the request
  ends, whether it succeeded, failed, or the client went away mid-upload;
- multipart file parts are spooled (beyond 500 KB) into the request's folder;
- the services' copies of uploads and unpacked archives (GDAL needs file names) go there too;
- at start, every process subfolder whose lock is free (its process is gone, however it
  died) is removed, and any loose file with it.

Files that cannot be unlinked while open (the spooled parts) are created already unlinked
where the file system allows (O_TMPFILE), so not even a name is left behind.
"""

from __future__ import annotations

import fcntl
import io
import os
import shutil
import tempfile
import time
from pathlib import Path

from flask import Flask, current_app, g, has_app_context, has_request_context
from flask import Request as FlaskRequest

# A multipart part up to this size stays in memory (Werkzeug's own threshold).
IN_MEMORY_BYTES = 500 * 1024
# A process's folder is claimed under a "claiming-" name and renamed once locked; one left
# in that state longer than this is a claim that never finished.
CLAIM_GRACE_SECONDS = 60
EXTENSION = "wangge_spool"


class Spool:
    def __init__(self, root: Path):
        self.root = root
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        self.removed = sweep(self.root)
        self.folder, self._lock = claim(self.root)

    def request_folder(self) -> Path:
        """The current request's own folder, made on first use."""
        folder = g.get("_wangge_spool_folder")
        if folder is None:
            folder = Path(tempfile.mkdtemp(prefix="request-", dir=self.folder))
            g._wangge_spool_folder = folder
        return folder


def claim(root: Path) -> tuple[Path, int]:
    """Make this process's folder and hold a lock on it until the process ends."""
    claiming = Path(tempfile.mkdtemp(prefix="claiming-", dir=root))
    fd = os.open(claiming, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    folder = root / f"process-{os.getpid()}-{claiming.name.removeprefix('claiming-')}"
    os.rename(claiming, folder)
    return folder, fd


def sweep(root: Path) -> list[str]:
    """Remove what processes that are gone left in the folder; the names removed."""
    removed = []
    for entry in sorted(root.iterdir()):
        if entry.is_symlink() or not entry.is_dir():
            entry.unlink(missing_ok=True)
            removed.append(entry.name)
        elif entry.name.startswith("claiming-"):
            if time.time() - entry.stat().st_mtime > CLAIM_GRACE_SECONDS:
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry.name)
        elif _abandoned(entry):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry.name)
    return removed


def _abandoned(folder: Path) -> bool:
    """True if no living process holds the folder's lock."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # releases the lock if we took it
    return True


def private_folder() -> str | None:
    """Where a service may write a temporary file of an upload: the request's folder in a
    request, the process's folder in a command, else (no app) the system's."""
    if not has_app_context():
        return None
    spool: Spool | None = current_app.extensions.get(EXTENSION)
    if spool is None:
        return None
    if has_request_context():
        return str(spool.request_folder())
    return str(spool.folder)


class SpooledRequest(FlaskRequest):
    """A request whose multipart file parts are spooled into the request's own folder."""

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ):
        if total_content_length is not None and total_content_length <= IN_MEMORY_BYTES:
            return io.BytesIO()
        return tempfile.SpooledTemporaryFile(
            max_size=IN_MEMORY_BYTES, mode="rb+", dir=private_folder()
        )


def _remove_request_folder(exc: BaseException | None = None) -> None:
    folder = g.pop("_wangge_spool_folder", None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = Spool(Path(app.config["WANGGE_UPLOAD_TMP"]))
    app.request_class = SpooledRequest
    app.teardown_request(_remove_request_folder)

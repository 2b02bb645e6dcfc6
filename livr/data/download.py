"""Shared download infrastructure for the public data sources.

- `download_file`: streamed HTTP(S) download into `<dest>.part`, resumed with a Range request after
  an interrupted transfer (restarted from zero when the server ignores Range), retried with
  exponential back-off on connection errors and 5xx, sha256-verified, renamed into place last.
- `safe_extract`: zip / tar(.gz/.bz2/.xz) extraction that refuses members escaping the target
  directory and extracts into a temporary sibling, so a corrupt archive leaves nothing that looks
  complete.
- `RemoteFile` / `read_remote_zip_member`: one member of a remote zip read through HTTP Range
  requests (the central directory, then that member's bytes), without fetching the archive.
- `write_manifest` / `read_manifest`: `<raw_dir>/manifest.json`, written last, marks a finished source.
"""

from __future__ import annotations

import hashlib
import io
import json
import lzma
import os
import shutil
import tarfile
import tempfile
import time
import zipfile
import zlib
from pathlib import Path, PurePosixPath

import requests

from livr.errors import InputError
from livr.io import atomic_path, progress_enabled, write_json

MANIFEST = "manifest.json"
CHUNK = 1 << 16


class DownloadError(RuntimeError):
    """A download failed after all retries (the message names the URL and the last error)."""


class ChecksumError(DownloadError):
    """A downloaded file's sha256 differs from the expected one."""


class ArchiveError(InputError):
    """An archive is corrupt or holds a member that would land outside the target directory."""


def sha256_file(path: str | os.PathLike, chunk: int = CHUNK) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(chunk)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def _progress(total: int | None, initial: int, desc: str):
    from tqdm import tqdm

    return tqdm(
        total=total,
        initial=initial,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc=desc,
        disable=not progress_enabled(),
        leave=False,
    )


class _Retryable(Exception):
    pass


def _get(session: requests.Session, url: str, have: int, timeout: float) -> requests.Response:
    """The GET of one attempt, resumed with Range when `have` bytes are already on disk."""
    headers = {"Range": f"bytes={have}-"} if have else {}
    try:
        return session.get(url, headers=headers, stream=True, timeout=timeout)
    except requests.exceptions.SSLError as e:
        # A certificate that does not verify will not verify on the next attempt either.
        raise DownloadError(f"{url}: TLS verification failed ({e})") from e
    except (requests.ConnectionError, requests.Timeout) as e:
        raise _Retryable(f"connection error: {e}") from e


def _check_status(resp: requests.Response, url: str, part: Path, have: int) -> None:
    if resp.status_code == 416 and have:
        # Range not satisfiable: our partial file is already complete or bogus. Restart.
        part.unlink(missing_ok=True)
        raise _Retryable("server answered 416 to a resume request; restarting from zero")
    if resp.status_code >= 500 or resp.status_code == 429:
        raise _Retryable(f"HTTP {resp.status_code}")
    if resp.status_code >= 400:
        raise DownloadError(f"{url}: HTTP {resp.status_code} {resp.reason}")


def _attempt(session: requests.Session, url: str, part: Path, timeout: float, desc: str) -> None:
    """One transfer attempt, appending to `part` (resumed with Range when it is non-empty)."""
    have = part.stat().st_size if part.exists() else 0
    resp = _get(session, url, have, timeout)
    with resp:
        _check_status(resp, url, part, have)
        if not (have and resp.status_code == 206):
            have = 0  # fresh download, or the server ignored Range (200): start over
        length = resp.headers.get("Content-Length")
        total = have + int(length) if length is not None else None
        bar = _progress(total, have, desc)
        try:
            with open(part, "ab" if have else "wb") as f:
                for chunk in resp.iter_content(CHUNK):
                    if chunk:
                        f.write(chunk)
                        bar.update(len(chunk))
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as e:
            raise _Retryable(f"transfer interrupted: {e}") from e
        finally:
            bar.close()
        got = part.stat().st_size
        if total is not None and got < total:
            raise _Retryable(f"transfer interrupted: got {got} of {total} bytes")


def download_file(
    url: str,
    dest: str | os.PathLike,
    sha256: str | None = None,
    retries: int = 5,
    backoff: float = 1.0,
    timeout: float = 60.0,
    session: requests.Session | None = None,
    md5: str | None = None,
) -> Path:
    """Download `url` to `dest` (see module docstring). Returns `dest`.

    An existing `dest` whose checksum matches (or any existing `dest` when no checksum is given)
    is kept as is. `md5` is checked the same way as `sha256` (some sources, e.g. COCO, publish
    only md5 sums). `retries` is the number of extra attempts after the first; the wait before
    attempt n+1 is `backoff * 2**n` seconds.
    """
    dest = Path(dest)
    if (
        dest.exists()
        and (sha256 is None or sha256_file(dest) == sha256.lower())
        and (md5 is None or _md5_file(dest) == md5.lower())
    ):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    session = session or requests.Session()
    last = None
    for attempt in range(retries + 1):
        try:
            _attempt(session, url, part, timeout, dest.name)
            break
        except _Retryable as e:
            last = e
            if attempt < retries:
                time.sleep(backoff * (2**attempt))
    else:
        raise DownloadError(
            f"{url}: failed after {retries + 1} attempts; last error: {last} "
            f"(partial data kept in {part} for a later resume)"
        )
    if sha256 is not None:
        got = sha256_file(part)
        if got != sha256.lower():
            part.unlink(missing_ok=True)
            raise ChecksumError(f"{url}: sha256 mismatch: expected {sha256.lower()}, got {got}")
    if md5 is not None:
        got = _md5_file(part)
        if got != md5.lower():
            part.unlink(missing_ok=True)
            raise ChecksumError(f"{url}: md5 mismatch: expected {md5.lower()}, got {got}")
    os.replace(part, dest)
    return dest


def _md5_file(path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(CHUNK), b""):
            h.update(b)
    return h.hexdigest()


# ------------------------------------------------------------------------------------ archives
def _archive_kind(archive: Path) -> str:
    if zipfile.is_zipfile(archive):
        return "zip"
    try:
        if tarfile.is_tarfile(archive):
            return "tar"
    except OSError:
        pass
    raise ArchiveError(f"{archive}: not a zip or tar archive (or it is corrupt)")


def _check_member_name(archive: Path, name: str) -> PurePosixPath:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise ArchiveError(f"{archive}: member {name!r} has an absolute path; refusing to extract")
    if ".." in p.parts:
        raise ArchiveError(f"{archive}: member {name!r} would land outside the target directory; refusing to extract")
    return p


def _within(base: Path, target: Path) -> bool:
    try:
        target.relative_to(base)
        return True
    except ValueError:
        return False


def _extract_zip(archive: Path, tmp: Path) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                _check_member_name(archive, info.filename)
                # Unix symlinks stored in zips (external attr S_IFLNK) are refused outright.
                if (info.external_attr >> 16) & 0o170000 == 0o120000:
                    raise ArchiveError(f"{archive}: member {info.filename!r} is a symlink; refusing to extract")
            bad = zf.testzip()
            if bad is not None:
                raise ArchiveError(f"{archive}: member {bad!r} is corrupt (CRC mismatch)")
            zf.extractall(tmp)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as e:
        if isinstance(e, ArchiveError):
            raise
        raise ArchiveError(f"{archive}: corrupt zip archive ({e})") from e


def _extract_tar(archive: Path, tmp: Path) -> None:
    base = tmp.resolve()
    try:
        with tarfile.open(archive, "r:*") as tf:
            members = tf.getmembers()
            for m in members:
                p = _check_member_name(archive, m.name)
                if m.issym() or m.islnk():
                    link = PurePosixPath(m.linkname)
                    if link.is_absolute():
                        raise ArchiveError(
                            f"{archive}: member {m.name!r} links to absolute path {m.linkname!r}; refusing to extract"
                        )
                    start = (base / p).parent if m.issym() else base
                    resolved = Path(os.path.normpath(start / link))
                    if not _within(base, resolved):
                        raise ArchiveError(
                            f"{archive}: member {m.name!r} links outside the target directory ({m.linkname!r}); "
                            "refusing to extract"
                        )
                elif not (m.isfile() or m.isdir()):
                    raise ArchiveError(f"{archive}: member {m.name!r} is a device/fifo; refusing to extract")
            try:
                tf.extractall(tmp, members=members, filter="data")
            except TypeError:  # Python without extraction filters
                tf.extractall(tmp, members=members)
    except (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError) as e:
        if isinstance(e, ArchiveError):
            raise
        raise ArchiveError(f"{archive}: corrupt tar archive ({type(e).__name__}: {e})") from e


def safe_extract(archive: str | os.PathLike, target_dir: str | os.PathLike) -> Path:
    """Extract `archive` into `target_dir` (created; replaced if it exists) and return it.

    Every member is checked first: absolute paths, `..` components and links that resolve
    outside the target are refused with an `ArchiveError` naming the archive and member.
    Extraction happens into a temporary sibling directory that is renamed into place only
    after every member was written, so a corrupt or refused archive leaves no `target_dir`.
    """
    archive, target_dir = Path(archive), Path(target_dir)
    if not archive.is_file():
        raise InputError(f"{archive}: archive not found")
    kind = _archive_kind(archive)
    target_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target_dir.name}.", suffix=".extract", dir=target_dir.parent))
    try:
        (_extract_zip if kind == "zip" else _extract_tar)(archive, tmp)
        if target_dir.exists():
            shutil.rmtree(target_dir)
        os.replace(tmp, target_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target_dir


# ------------------------------------------------------------------------------------ remote zips
class RemoteFile(io.RawIOBase):
    """A read-only, seekable view of a remote file through HTTP Range requests, read in blocks of
    at least `block` bytes (zipfile reads the end record and central directory in small pieces).
    `transferred` counts the body bytes received."""

    block = 1 << 20

    def __init__(self, url: str, session: requests.Session | None = None, timeout: float = 60.0):
        self.url, self.timeout = url, timeout
        self.session = session or requests.Session()
        self.pos, self.transferred = 0, 0
        self._buf_start, self._buf = 0, b""
        self.size = self._size()

    def _get(self, start: int, end: int) -> requests.Response:
        try:
            resp = self.session.get(self.url, headers={"Range": f"bytes={start}-{end}"}, timeout=self.timeout)
        except (requests.ConnectionError, requests.Timeout) as e:
            raise DownloadError(f"{self.url}: connection error: {e}") from e
        if resp.status_code != 206:
            raise DownloadError(
                f"{self.url}: HTTP {resp.status_code} to a Range request (need 206 Partial "
                "Content to read single members of a remote archive)"
            )
        self.transferred += len(resp.content)
        return resp

    def _size(self) -> int:
        resp = self._get(0, 0)
        total = resp.headers.get("Content-Range", "").rpartition("/")[2]
        if not total.isdigit():
            raise DownloadError(f"{self.url}: no total size in Content-Range {resp.headers.get('Content-Range')!r}")
        return int(total)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def readinto(self, b) -> int:
        want = min(len(b), self.size - self.pos)
        if want <= 0:
            return 0
        lo, hi = self.pos - self._buf_start, self.pos - self._buf_start + want
        if lo < 0 or hi > len(self._buf):
            end = min(self.size, self.pos + max(want, self.block)) - 1
            self._buf_start, self._buf = self.pos, self._get(self.pos, end).content
            lo, hi = 0, want
        data = self._buf[lo:hi]
        b[: len(data)] = data
        self.pos += len(data)
        return len(data)


def read_remote_zip_member(
    url: str, member: str, dest: str | os.PathLike, timeout: float = 60.0, session: requests.Session | None = None
) -> dict:
    """Copy the member of the remote zip at `url` whose path ends with `member` (e.g. "data.csv"
    in "nights/data.csv") to `dest` (atomically), reading only the central directory and that
    member's bytes. Returns {"member", "size", "archive_size", "transferred"}."""
    remote = RemoteFile(url, session=session, timeout=timeout)
    try:
        with zipfile.ZipFile(remote) as zf:
            names = [n for n in zf.namelist() if n == member or n.endswith("/" + member)]
            if len(names) != 1:
                raise ArchiveError(f"{url}: expected one member named {member!r}, found {names or 'none'}")
            with atomic_path(dest) as tmp, zf.open(names[0]) as src, open(tmp, "wb") as out:
                shutil.copyfileobj(src, out, CHUNK)
            info = zf.getinfo(names[0])
    except zipfile.BadZipFile as e:
        raise ArchiveError(f"{url}: not a readable zip archive ({e})") from e
    return {"member": names[0], "size": info.file_size, "archive_size": remote.size, "transferred": remote.transferred}


# ------------------------------------------------------------------------------------ manifests
def write_manifest(raw_dir: str | os.PathLike, manifest: dict) -> Path:
    """Write `<raw_dir>/manifest.json` atomically. Call it last: it marks a finished source."""
    path = Path(raw_dir) / MANIFEST
    write_json(path, {**manifest, "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    return path


def read_manifest(raw_dir: str | os.PathLike) -> dict | None:
    """The source's manifest, or None when the source was never finished."""
    path = Path(raw_dir) / MANIFEST
    if not path.is_file():
        return None
    with open(path) as f:
        return json.load(f)


def require_manifest(raw_dir: str | os.PathLike, source: str) -> dict:
    """The manifest of a finished source, else a FileNotFoundError telling how to fetch it."""
    m = read_manifest(raw_dir)
    if m is None:
        raise InputError(
            f"{Path(raw_dir)}: source {source!r} is not downloaded (no {MANIFEST}); "
            f"run `livr data download --source {source} --raw-dir {Path(raw_dir).parent}`"
        )
    return m

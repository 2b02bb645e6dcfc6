import hashlib
import io
import os
import tarfile
import zipfile

import pytest
from _httpserver import Files, serve

from livr.data.download import (
    ArchiveError,
    ChecksumError,
    DownloadError,
    download_file,
    read_manifest,
    safe_extract,
    sha256_file,
    write_manifest,
)

BODY = os.urandom(300_000)
SHA = hashlib.sha256(BODY).hexdigest()


def test_plain_download_and_checksum(tmp_path):
    f = Files()
    f.data["/a.bin"] = BODY
    with serve(f) as base:
        out = download_file(f"{base}/a.bin", tmp_path / "a.bin", sha256=SHA, backoff=0)
    assert out.read_bytes() == BODY
    assert sha256_file(out) == SHA
    assert not (tmp_path / "a.bin.part").exists()


def test_resume_after_interrupted_transfer(tmp_path):
    f = Files()
    f.data["/a.bin"] = BODY
    f.script["/a.bin"] = ["cut"]
    with serve(f) as base:
        download_file(f"{base}/a.bin", tmp_path / "a.bin", sha256=SHA, backoff=0)
    assert (tmp_path / "a.bin").read_bytes() == BODY
    # the second request resumed with a Range header from where the first stopped
    assert f.requests[0][1] is None
    assert f.requests[1][1] is not None and f.requests[1][1].startswith("bytes=")
    assert int(f.requests[1][1].split("=")[1].rstrip("-")) > 0


def test_resume_falls_back_to_restart_when_range_ignored(tmp_path):
    f = Files()
    f.data["/a.bin"] = BODY
    f.script["/a.bin"] = ["cut"]
    f.ignore_range = True
    with serve(f) as base:
        download_file(f"{base}/a.bin", tmp_path / "a.bin", sha256=SHA, backoff=0)
    assert (tmp_path / "a.bin").read_bytes() == BODY


def test_retry_on_5xx(tmp_path):
    f = Files()
    f.data["/a.bin"] = BODY
    f.script["/a.bin"] = ["500", "500"]
    with serve(f) as base:
        download_file(f"{base}/a.bin", tmp_path / "a.bin", retries=3, backoff=0.01)
    assert (tmp_path / "a.bin").read_bytes() == BODY
    assert len(f.requests) == 3


def test_gives_up_after_retries(tmp_path):
    f = Files()
    f.data["/a.bin"] = BODY
    f.script["/a.bin"] = ["500"] * 5
    with serve(f) as base:
        with pytest.raises(DownloadError, match="a.bin.*3 attempts"):
            download_file(f"{base}/a.bin", tmp_path / "a.bin", retries=2, backoff=0)
    assert not (tmp_path / "a.bin").exists()


def test_404_is_not_retried(tmp_path):
    f = Files()
    with serve(f) as base:
        with pytest.raises(DownloadError, match="404"):
            download_file(f"{base}/missing", tmp_path / "m", retries=3, backoff=0)
    assert len(f.requests) == 1


def test_checksum_mismatch_leaves_no_file(tmp_path):
    f = Files()
    f.data["/a.bin"] = BODY
    with serve(f) as base:
        with pytest.raises(ChecksumError) as e:
            download_file(f"{base}/a.bin", tmp_path / "a.bin", sha256="0" * 64, backoff=0)
    msg = str(e.value)
    assert "/a.bin" in msg and "0" * 64 in msg and SHA in msg
    assert list(tmp_path.iterdir()) == []


def test_connection_refused_is_retried_then_fails(tmp_path):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(DownloadError, match="connection error"):
        download_file(f"http://127.0.0.1:{port}/x", tmp_path / "x", retries=1, backoff=0, timeout=2)


def _zip_with(tmp_path, names):
    p = tmp_path / "a.zip"
    with zipfile.ZipFile(p, "w") as z:
        for n in names:
            z.writestr(n, b"hello")
    return p


def test_safe_extract_zip_and_tar(tmp_path):
    z = _zip_with(tmp_path, ["d/x.txt", "y.txt"])
    out = safe_extract(z, tmp_path / "out_zip")
    assert (out / "d/x.txt").read_bytes() == b"hello"
    for mode, suffix in (("w:gz", "tar.gz"), ("w:bz2", "tar.bz2"), ("w:xz", "tar.xz")):
        t = tmp_path / f"a.{suffix}"
        with tarfile.open(t, mode) as tf:
            info = tarfile.TarInfo("d/x.txt")
            info.size = 5
            tf.addfile(info, io.BytesIO(b"hello"))
        out = safe_extract(t, tmp_path / f"out_{suffix}")
        assert (out / "d/x.txt").read_bytes() == b"hello"


@pytest.mark.parametrize("name", ["../evil.txt", "d/../../evil.txt", "/abs/evil.txt"])
def test_safe_extract_refuses_escape_zip(tmp_path, name):
    z = _zip_with(tmp_path, ["ok.txt", name])
    with pytest.raises(ArchiveError) as e:
        safe_extract(z, tmp_path / "out")
    assert "a.zip" in str(e.value) and name in str(e.value)
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "evil.txt").exists()


def test_safe_extract_refuses_tar_escape_and_outside_links(tmp_path):
    for i, (kind, name, link) in enumerate(
        [
            ("file", "../evil.txt", None),
            ("sym", "ln", "../../etc/passwd"),
            ("sym", "ln", "/etc/passwd"),
            ("hard", "hl", "../outside"),
        ]
    ):
        t = tmp_path / f"bad{i}.tar"
        with tarfile.open(t, "w") as tf:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = 5
                tf.addfile(info, io.BytesIO(b"hello"))
            else:
                info.type = tarfile.SYMTYPE if kind == "sym" else tarfile.LNKTYPE
                info.linkname = link
                tf.addfile(info)
        with pytest.raises(ArchiveError) as e:
            safe_extract(t, tmp_path / f"out{i}")
        assert f"bad{i}.tar" in str(e.value) and name in str(e.value)
        assert not (tmp_path / f"out{i}").exists()


def test_safe_extract_allows_internal_symlink(tmp_path):
    t = tmp_path / "ok.tar"
    with tarfile.open(t, "w") as tf:
        info = tarfile.TarInfo("d/x.txt")
        info.size = 5
        tf.addfile(info, io.BytesIO(b"hello"))
        ln = tarfile.TarInfo("d/link")
        ln.type = tarfile.SYMTYPE
        ln.linkname = "x.txt"
        tf.addfile(ln)
    out = safe_extract(t, tmp_path / "out")
    assert (out / "d/link").read_bytes() == b"hello"


def test_corrupt_archive_leaves_nothing_complete(tmp_path):
    t = tmp_path / "a.tar.gz"
    with tarfile.open(t, "w:gz") as tf:
        for i in range(20):
            data = os.urandom(20_000)
            info = tarfile.TarInfo(f"f{i}.bin")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    raw = t.read_bytes()
    t.write_bytes(raw[: len(raw) // 2])  # truncated download
    with pytest.raises(ArchiveError, match="a.tar.gz"):
        safe_extract(t, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["a.tar.gz"]

    z = _zip_with(tmp_path, [f"f{i}.txt" for i in range(5)])
    b = bytearray(z.read_bytes())
    b[40:60] = b"\x00" * 20  # damage a member's data
    z.write_bytes(bytes(b))
    with pytest.raises(ArchiveError, match="a.zip"):
        safe_extract(z, tmp_path / "outz")
    assert not (tmp_path / "outz").exists()

    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not an archive")
    with pytest.raises(ArchiveError, match="junk.zip"):
        safe_extract(junk, tmp_path / "outj")


def test_manifest_roundtrip(tmp_path):
    assert read_manifest(tmp_path) is None
    write_manifest(tmp_path, {"source": "x", "n": 3})
    m = read_manifest(tmp_path)
    assert m["source"] == "x" and m["n"] == 3 and "finished_at" in m


def _zip_members(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_remote_zip_member_reads_only_what_it_needs(tmp_path, monkeypatch):
    from livr.data.download import RemoteFile, read_remote_zip_member

    monkeypatch.setattr(RemoteFile, "block", 1 << 12)
    csv = b"id,split\n" + b"".join(b"%d,train\n" % i for i in range(2000))
    big = os.urandom(2_000_000)  # incompressible: stands in for the 58 GB of images
    f = Files()
    f.data["/nights.zip"] = _zip_members(
        {"nights/ref/000/000.png": big, "nights/data.csv": csv, "nights/distort/000/000_0.png": big}
    )
    with serve(f) as base:
        got = read_remote_zip_member(f"{base}/nights.zip", "data.csv", tmp_path / "data.csv")
    assert (tmp_path / "data.csv").read_bytes() == csv
    assert got["member"] == "nights/data.csv" and got["size"] == len(csv)
    assert got["archive_size"] == len(f.data["/nights.zip"])
    assert got["transferred"] == f.sent["/nights.zip"] < 60_000  # not the 4 MB of images
    assert all(r is not None and "-" in r for p, r in f.requests)


def test_remote_zip_member_errors(tmp_path):
    from livr.data.download import read_remote_zip_member

    f = Files()
    f.data["/a.zip"] = _zip_members({"x/data.csv": b"1", "y/data.csv": b"2"})
    f.data["/page.zip"] = b"<html>moved</html>"
    with serve(f) as base:
        two = r"expected one member named 'data.csv', found \['x/data.csv', 'y/data.csv'\]"
        with pytest.raises(ArchiveError, match=two):
            read_remote_zip_member(f"{base}/a.zip", "data.csv", tmp_path / "d.csv")
        with pytest.raises(ArchiveError, match="not a readable zip"):
            read_remote_zip_member(f"{base}/page.zip", "data.csv", tmp_path / "d.csv")
        with pytest.raises(DownloadError, match="HTTP 404"):
            read_remote_zip_member(f"{base}/gone.zip", "data.csv", tmp_path / "d.csv")
    assert not (tmp_path / "d.csv").exists()


def test_tls_failure_is_not_retried(tmp_path):
    import requests

    class Session:
        calls = 0

        def get(self, *a, **k):
            Session.calls += 1
            raise requests.exceptions.SSLError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")

    with pytest.raises(DownloadError, match="TLS verification failed"):
        download_file("https://example.invalid/a.jpg", tmp_path / "a.jpg", retries=3, backoff=0, session=Session())
    assert Session.calls == 1 and not (tmp_path / "a.jpg").exists()

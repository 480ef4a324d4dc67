"""Code packages: zip validation as Lambda does it, zip-slip, CodeSha256, directory hashing
and safe extraction. No Kafka here (see tests/integration/functions/test_code_store.py)."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import stat
import zipfile
from collections.abc import Mapping
from pathlib import Path

import pytest

from eventplane.functions.errors import InvalidParameterValueException, RequestTooLargeException
from eventplane.functions.models import DIRECTORY, ZIP
from eventplane.functions.packages import (
    MAX_UNZIPPED_BYTES,
    MAX_ZIPPED_BYTES,
    code_sha256,
    extract_zip,
    package_directory,
    package_zip,
)

HANDLER = "app.handler"


def make_zip(files: Mapping[str, bytes | str], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buf.getvalue()


APP = make_zip({"app.py": "def handler(event, context):\n    return event\n"})


def test_sha_is_lambdas_base64_sha256() -> None:
    pkg = package_zip(APP, HANDLER)
    assert pkg.sha256 == base64.b64encode(hashlib.sha256(APP).digest()).decode()
    assert pkg.sha256 == code_sha256(APP)
    assert pkg.size == len(APP)
    assert (pkg.ref.package_type, pkg.ref.directory, pkg.data) == (ZIP, None, APP)
    assert pkg.handler_found


def test_sha_is_stable_and_follows_the_bytes() -> None:
    assert package_zip(APP, HANDLER).sha256 == package_zip(bytes(APP), HANDLER).sha256
    other = make_zip({"app.py": "def handler(event, context):\n    return 1\n"})
    assert package_zip(other, HANDLER).sha256 != package_zip(APP, HANDLER).sha256


def test_not_a_zip() -> None:
    with pytest.raises(InvalidParameterValueException) as exc:
        package_zip(b"this is not a zip file", HANDLER)
    assert exc.value.message == (
        "Could not unzip uploaded file. Please check your file, then try to upload again."
    )
    assert exc.value.code == "InvalidParameterValueException"


def test_truncated_zip() -> None:
    with pytest.raises(InvalidParameterValueException, match="Could not unzip"):
        package_zip(APP[: len(APP) // 2], HANDLER)


def test_corrupted_entry_fails_its_crc() -> None:
    data = bytearray(make_zip({"app.py": "x = 1\n" * 50}, compression=zipfile.ZIP_STORED))
    offset = bytes(data).index(b"x = 1")
    data[offset] = ord("y")
    with pytest.raises(InvalidParameterValueException, match="Could not unzip"):
        package_zip(bytes(data), HANDLER)


def test_empty_upload_and_empty_zip() -> None:
    for data in (b"", make_zip({})):
        with pytest.raises(InvalidParameterValueException) as exc:
            package_zip(data, HANDLER)
        assert exc.value.message == "Uploaded file must be a non-empty zip"


def test_zipped_size_limit() -> None:
    too_big = b"PK" + b"\0" * (MAX_ZIPPED_BYTES - 1)
    with pytest.raises(RequestTooLargeException) as exc:
        package_zip(too_big, HANDLER, operation="UpdateFunctionCode")
    assert exc.value.message == (
        "Request must be smaller than 52428800 bytes for the UpdateFunctionCode operation"
    )
    assert exc.value.code == "RequestEntityTooLargeException"


def test_unzipped_size_limit() -> None:
    # Zeros compress ~1000:1, so a small zip declares more than 250 MB.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        chunk = b"\0" * (16 * 1024 * 1024)
        for i in range(MAX_UNZIPPED_BYTES // len(chunk) + 1):
            zf.writestr(f"blob{i}", chunk)
    with pytest.raises(InvalidParameterValueException) as exc:
        package_zip(buf.getvalue(), HANDLER)
    assert exc.value.message == "Unzipped size must be smaller than 262144000 bytes"


@pytest.mark.parametrize(
    "name", ["../evil.py", "a/../../evil.py", "/etc/passwd", "..\\evil.py", "C:/x.py", "a/.."]
)
def test_zip_slip_is_rejected(name: str) -> None:
    data = make_zip({"app.py": "x", name: "boom"})
    with pytest.raises(InvalidParameterValueException) as exc:
        package_zip(data, HANDLER)
    assert "would be extracted outside the package" in exc.value.message


def test_dot_dot_inside_names_is_fine() -> None:
    pkg = package_zip(make_zip({"app.py": "x", "a..b/c..py": "y"}), HANDLER)
    assert pkg.size > 0


def test_encrypted_entries_cannot_be_unzipped() -> None:
    data = bytearray(make_zip({"app.py": "x"}))
    # Set the "encrypted" flag bit in the local and central headers.
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = bytes(data).index(signature) + flag_at
        data[at] |= 0x1
    with pytest.raises(InvalidParameterValueException, match="Could not unzip"):
        package_zip(bytes(data), HANDLER)


@pytest.mark.parametrize(
    ("files", "handler", "found"),
    [
        ({"app.py": "x"}, "app.handler", True),
        ({"other.py": "x"}, "app.handler", False),
        ({"pkg/__init__.py": "", "pkg/app.py": "x"}, "pkg.app.handler", True),
        ({"src/app.py": "x"}, "src/app.handler", True),
        ({"pkg/__init__.py": ""}, "pkg.handler", True),
        ({"fast.cpython-311-x86_64-linux-gnu.so": "x"}, "fast.handler", True),
    ],
)
def test_missing_handler_module_is_accepted_and_reported(
    files: dict[str, bytes | str], handler: str, found: bool
) -> None:
    assert package_zip(make_zip(files), handler).handler_found is found


# --- directories ----------------------------------------------------------------------------


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_directory_package(tmp_path: Path) -> None:
    write(tmp_path, "app.py", "def handler(e, c): return 1\n")
    write(tmp_path, "lib/util.py", "X = 1\n")
    pkg = package_directory(str(tmp_path))
    assert pkg.ref.package_type == DIRECTORY
    assert pkg.ref.directory == str(tmp_path)
    assert pkg.data is None
    assert pkg.size == len("def handler(e, c): return 1\n") + len("X = 1\n")
    assert len(base64.b64decode(pkg.sha256)) == 32
    assert package_directory(str(tmp_path) + "/").sha256 == pkg.sha256


def test_directory_hash_changes_on_edit_rename_and_new_file(tmp_path: Path) -> None:
    write(tmp_path, "app.py", "A = 1\n")
    first = package_directory(str(tmp_path)).sha256
    assert package_directory(str(tmp_path)).sha256 == first
    write(tmp_path, "app.py", "A = 2\n")
    edited = package_directory(str(tmp_path)).sha256
    assert edited != first
    (tmp_path / "app.py").rename(tmp_path / "main.py")
    renamed = package_directory(str(tmp_path)).sha256
    assert renamed not in (first, edited)
    write(tmp_path, "extra.txt", "")
    assert package_directory(str(tmp_path)).sha256 not in (first, edited, renamed)


def test_directory_hash_ignores_bytecode(tmp_path: Path) -> None:
    write(tmp_path, "app.py", "A = 1\n")
    before = package_directory(str(tmp_path)).sha256
    write(tmp_path, "__pycache__/app.cpython-311.pyc", "bytecode")
    write(tmp_path, "legacy.pyc", "bytecode")
    assert package_directory(str(tmp_path)).sha256 == before


def test_directory_hash_does_not_depend_on_where_it_is(tmp_path: Path) -> None:
    for side in ("a", "b"):
        write(tmp_path / side, "app.py", "A = 1\n")
        write(tmp_path / side, "pkg/m.py", "B = 1\n")
    assert (
        package_directory(str(tmp_path / "a")).sha256
        == package_directory(str(tmp_path / "b")).sha256
    )


def test_directory_symlink_loop_terminates(tmp_path: Path) -> None:
    write(tmp_path, "app.py", "A = 1\n")
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    assert package_directory(str(tmp_path)).size == len("A = 1\n")


@pytest.mark.parametrize("path", ["", "relative/dir", "./x"])
def test_directory_must_be_absolute(path: str) -> None:
    with pytest.raises(InvalidParameterValueException, match="must be an absolute path"):
        package_directory(path)


def test_directory_must_exist(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValueException, match="does not exist"):
        package_directory(str(tmp_path / "missing"))
    write(tmp_path, "file.py", "x")
    with pytest.raises(InvalidParameterValueException, match="not a directory"):
        package_directory(str(tmp_path / "file.py"))


# --- extraction -----------------------------------------------------------------------------


def test_extract_round_trip(tmp_path: Path) -> None:
    files = {"app.py": "A = 1\n", "pkg/__init__.py": "", "pkg/data/x.json": "{}", "empty/": ""}
    extract_zip(make_zip(files), str(tmp_path))
    assert (tmp_path / "app.py").read_text() == "A = 1\n"
    assert (tmp_path / "pkg/data/x.json").read_text() == "{}"
    assert (tmp_path / "empty").is_dir()


def test_extract_keeps_unix_modes(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("bin/tool")
        info.external_attr = (stat.S_IFREG | 0o755) << 16
        zf.writestr(info, "#!/bin/sh\n")
    extract_zip(buf.getvalue(), str(tmp_path))
    assert os.stat(tmp_path / "bin/tool").st_mode & 0o777 == 0o755


def test_extract_refuses_zip_slip(tmp_path: Path) -> None:
    dest = tmp_path / "pkg"
    dest.mkdir()
    with pytest.raises(InvalidParameterValueException):
        extract_zip(make_zip({"../outside.py": "x"}), str(dest))
    assert not (tmp_path / "outside.py").exists()

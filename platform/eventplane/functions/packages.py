"""Code packages: validating a zip or a directory the way Lambda does, and extracting one
safely (no member outside the target, no more than Lambda's unzipped limit)."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import zipfile
import zlib
from dataclasses import dataclass
from typing import Final

from eventplane.functions.errors import (
    InvalidParameterValueException,
    RequestTooLargeException,
)
from eventplane.functions.models import DIRECTORY, ZIP, CodeRef, handler_module_path

MAX_ZIPPED_BYTES: Final = 50 * 1024 * 1024  # Lambda's direct-upload limit
MAX_UNZIPPED_BYTES: Final = 250 * 1024 * 1024  # 262144000, Lambda's unzipped limit


_CANNOT_UNZIP = "Could not unzip uploaded file. Please check your file, then try to upload again."
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Package:
    """A validated code package: its CodeRef and, for a zip, the bytes to store."""

    ref: CodeRef
    data: bytes | None = None  # the zip as uploaded; None for a directory
    handler_found: bool = True  # the handler's module is in the package

    @property
    def sha256(self) -> str:
        return self.ref.sha256

    @property
    def size(self) -> int:
        return self.ref.size


def code_sha256(data: bytes) -> str:
    """Lambda's CodeSha256: the base64 of the package's SHA-256."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


# --- packaging ----------------------------------------------------------------------------


def _unsafe_member(name: str) -> bool:
    """True when extracting ``name`` could write outside the package (zip-slip)."""
    parts = name.replace("\\", "/").split("/")
    return (
        name.startswith(("/", "\\"))
        or ":" in parts[0]  # C:\... or C:relative
        or ".." in parts
        or "\x00" in name
    )


def _members(zf: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    infos = zf.infolist()
    if not infos:
        raise InvalidParameterValueException("Uploaded file must be a non-empty zip")
    for info in infos:
        if _unsafe_member(info.filename):
            raise InvalidParameterValueException(
                f"{_CANNOT_UNZIP} The entry '{info.filename}' would be extracted outside the "
                "package: absolute paths and '..' are not allowed."
            )
    if sum(i.file_size for i in infos) > MAX_UNZIPPED_BYTES:
        raise InvalidParameterValueException(
            f"Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes"
        )
    return infos


def _has_module(names: set[str], handler: str) -> bool:
    path = handler_module_path(handler)
    if {f"{path}.py", f"{path}/__init__.py", f"{path}.pyc"} & names:
        return True
    return any(n.startswith(f"{path}.") and n.endswith((".so", ".pyd")) for n in names)


def package_zip(data: bytes, handler: str, *, operation: str = "CreateFunction") -> Package:
    """Validate an uploaded zip as Lambda does and compute its CodeSha256 and size.

    Every entry is decompressed once to check its CRC, so a package that is accepted can be
    extracted later. A handler whose module is missing is accepted (Lambda fails the first
    invoke with Runtime.ImportModuleError); ``handler_found`` tells the caller.
    """
    if not data:
        raise InvalidParameterValueException("Uploaded file must be a non-empty zip")
    if len(data) > MAX_ZIPPED_BYTES:
        raise RequestTooLargeException(
            f"Request must be smaller than {MAX_ZIPPED_BYTES} bytes for the {operation} operation"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = _members(zf)
            for info in infos:
                if info.is_dir():
                    continue
                with zf.open(info) as member:
                    while member.read(_CHUNK):
                        pass
    except InvalidParameterValueException:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError):
        # RuntimeError: encrypted entries; NotImplementedError: unsupported compression.
        raise InvalidParameterValueException(_CANNOT_UNZIP) from None
    names = {i.filename.replace("\\", "/") for i in infos}
    return Package(
        ref=CodeRef(code_sha256(data), len(data), ZIP, None),
        data=data,
        handler_found=_has_module(names, handler),
    )


def package_directory(path: str) -> Package:
    """A folder on this machine as a package (local development).

    CodeSha256 covers every file's relative path and contents (``__pycache__`` and ``.pyc``
    files aside, which running the code rewrites), so any edit changes it.
    """
    if not path or not os.path.isabs(path):
        raise InvalidParameterValueException(
            f"Code.Directory must be an absolute path of a directory on the server's machine, "
            f"got '{path}'"
        )
    root = os.path.normpath(path)
    if not os.path.isdir(root):
        raise InvalidParameterValueException(
            f"Code.Directory '{path}' does not exist or is not a directory on the server's machine"
        )
    digest = hashlib.sha256()
    total = 0
    seen: set[str] = set()
    for current, dirs, files in os.walk(root, followlinks=True):
        real = os.path.realpath(current)
        if real in seen:  # a symlink loop
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".pyc"):
                continue
            full = os.path.join(current, name)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            file_digest = hashlib.sha256()
            try:
                with open(full, "rb") as fh:
                    while chunk := fh.read(_CHUNK):
                        file_digest.update(chunk)
                        total += len(chunk)
            except OSError as exc:
                raise InvalidParameterValueException(
                    f"Code.Directory '{path}': cannot read {rel}: {exc.strerror}"
                ) from None
            if total > MAX_UNZIPPED_BYTES:
                raise InvalidParameterValueException(
                    f"Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes"
                )
            digest.update(f"{rel}\0{file_digest.hexdigest()}\n".encode())
    sha = base64.b64encode(digest.digest()).decode()
    return Package(ref=CodeRef(sha, total, DIRECTORY, root), data=None)


def extract_zip(data: bytes, dest: str) -> None:
    """Extract a package into the existing, empty folder ``dest``, refusing zip-slip."""
    base = os.path.realpath(dest)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in _members(zf):
            name = info.filename.replace("\\", "/")
            target = os.path.realpath(os.path.join(base, name))
            if target != base and not target.startswith(base + os.sep):
                raise InvalidParameterValueException(
                    f"{_CANNOT_UNZIP} The entry '{info.filename}' would be extracted outside "
                    "the package."
                )
            if info.is_dir():
                os.makedirs(target, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out, _CHUNK)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(target, mode | 0o600)

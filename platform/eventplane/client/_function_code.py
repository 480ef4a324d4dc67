"""Function code packages: zipping a local folder the same way every time.

A package travels inside one gRPC message, so its size is checked here, before
anything is sent, with a hint to pass a server-side ``directory`` instead.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

from eventplane._gen.v1 import functions_pb2 as pb
from eventplane.client._channel import MAX_MESSAGE_BYTES
from eventplane.client._event_types import InvalidArgument

# What a function package never needs: byte-code caches and VCS/OS clutter. Leaving
# them out also keeps the zip (and so its CodeSha256) the same from one build to the next.
_SKIPPED_DIRS = frozenset({"__pycache__", ".git", ".hg", ".svn", ".mypy_cache", ".pytest_cache"})
_SKIPPED_SUFFIXES = (".pyc", ".pyo")
_SKIPPED_FILES = frozenset({".DS_Store"})
# A fixed time and mode for every entry: the same files give the same bytes.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_ZIP_MODE = 0o644 << 16
# The code travels inside one gRPC message, next to the request's other fields.
_MAX_ZIP_BYTES = MAX_MESSAGE_BYTES - 64 * 1024


def zip_from_directory(directory: str | Path) -> bytes:
    """A function package: every file under ``directory``, zipped, paths relative to it.

    The bytes depend only on the files' paths and contents: entries are sorted,
    and each has the same time (1980-01-01) and mode, so zipping unchanged code
    again gives the same ``code_sha256``. ``__pycache__``, ``.git`` (and other VCS
    or tool caches), ``*.pyc`` and ``.DS_Store`` are left out. Symbolic links are
    followed for files, not for folders.

    Args:
        directory: the folder whose contents become the package's root (the
            handler's module sits directly in it).

    Raises:
        ValueError: ``directory`` is not a folder, or holds no files.
        OSError: a file cannot be read.
    """
    root = Path(directory)
    if not root.is_dir():
        raise InvalidArgument(f"zip_directory: {str(directory)!r} is not a directory")
    buffer = io.BytesIO()
    count = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for folder, dirnames, filenames in os.walk(root):
            # Sorted in place so the walk itself goes in a fixed order.
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIPPED_DIRS)
            for filename in sorted(filenames):
                if filename in _SKIPPED_FILES or filename.endswith(_SKIPPED_SUFFIXES):
                    continue
                path = Path(folder, filename)
                if not path.is_file():  # a dangling link, a socket, ...
                    continue
                entry = zipfile.ZipInfo(path.relative_to(root).as_posix(), _ZIP_TIME)
                entry.external_attr = _ZIP_MODE
                entry.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(entry, path.read_bytes())
                count += 1
    if not count:
        raise InvalidArgument(f"zip_directory: {str(directory)!r} holds no files")
    return buffer.getvalue()


def function_code(
    zip_file: bytes | None, directory: str | Path | None, zip_directory: str | Path | None
) -> pb.FunctionCode:
    """The ``FunctionCode`` of exactly one of the three ways to give code."""
    given = [
        name
        for name, value in (
            ("zip_file", zip_file),
            ("directory", directory),
            ("zip_directory", zip_directory),
        )
        if value is not None
    ]
    if len(given) != 1:
        got = f"got {' and '.join(given)}" if given else "got none"
        raise InvalidArgument(f"give exactly one of zip_file, directory, zip_directory; {got}")
    if directory is not None:
        if not isinstance(directory, str | os.PathLike):
            raise InvalidArgument(f"directory: expected a path, got {type(directory).__name__}")
        # Resolved on the server's machine, so sent as written (not made absolute here).
        return pb.FunctionCode(directory=os.fspath(directory))
    if zip_directory is not None:
        return pb.FunctionCode(zip_file=_checked_zip(zip_from_directory(zip_directory)))
    if not isinstance(zip_file, bytes | bytearray | memoryview):
        raise InvalidArgument(f"zip_file: expected bytes, got {type(zip_file).__name__}")
    return pb.FunctionCode(zip_file=_checked_zip(bytes(zip_file)))


def _checked_zip(data: bytes) -> bytes:
    if len(data) > _MAX_ZIP_BYTES:
        raise InvalidArgument(
            f"zip_file: the package is {len(data):,} bytes, more than the "
            f"{_MAX_ZIP_BYTES:,} one API call carries; on the server's machine, "
            f"give directory= instead"
        )
    return data

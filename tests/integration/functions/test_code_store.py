"""CodeStore on the real broker: packages written by one replica are found by another
that starts later, large packages round-trip, deletes tombstone, and the local cache is
reused."""

from __future__ import annotations

import asyncio
import io
import os
import threading
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from eventplane.config import Settings, load_settings
from eventplane.errors import ResourceNotFound
from eventplane.functions.code import CodeStore
from eventplane.functions.models import sha256_hex
from eventplane.functions.packages import package_zip

pytestmark = pytest.mark.integration

StoreFactory = Callable[[str], CodeStore]


@pytest.fixture
def make_store(eventplane_kafka: str, tmp_path: Path) -> Iterator[StoreFactory]:
    """make_store(replica) -> a CodeStore with its own home (its own local cache)."""
    stores: list[CodeStore] = []

    def make(replica: str) -> CodeStore:
        settings: Settings = load_settings(
            {}, overrides={"kafka_bootstrap": eventplane_kafka, "home": str(tmp_path / replica)}
        )
        store = CodeStore(settings)
        store.ensure()
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()


def make_zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buf.getvalue()


def read_tree(root: str) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for current, _, files in os.walk(root):
        for name in files:
            full = os.path.join(current, name)
            out[os.path.relpath(full, root)] = Path(full).read_bytes()
    return out


def fn_name() -> str:
    return f"fn-{uuid.uuid4().hex[:10]}"


FILES = {
    "app.py": b"def handler(event, context):\n    return {'ok': True}\n",
    "lib/__init__.py": b"",
    "lib/util.py": b"VALUE = 42\n",
}


def test_a_replica_that_starts_later_finds_the_package(make_store: StoreFactory) -> None:
    name = fn_name()
    pkg = package_zip(make_zip(FILES), "app.handler")
    assert pkg.data is not None
    writer = make_store("writer")
    asyncio.run(writer.put(name, pkg.sha256, pkg.data))

    later = make_store("later")  # never saw the write: it must find it by following the topic
    path = later.fetch(name, pkg.sha256)
    assert path == later.local_path(name, pkg.sha256)
    assert Path(path).parts[-3:] == ("functions", name, sha256_hex(pkg.sha256))
    assert read_tree(path) == {k.replace("/", os.sep): v for k, v in FILES.items()}
    # The writer's own replica finds it as well.
    assert read_tree(writer.fetch(name, pkg.sha256)) == read_tree(path)


def test_a_running_store_sees_new_packages(make_store: StoreFactory) -> None:
    reader = make_store("reader")
    reader.start()
    name = fn_name()
    pkg = package_zip(make_zip({"app.py": b"X = 1\n"}), "app.handler")
    assert pkg.data is not None
    asyncio.run(make_store("writer").put(name, pkg.sha256, pkg.data))
    assert read_tree(reader.fetch(name, pkg.sha256)) == {"app.py": b"X = 1\n"}
    assert f"{name}:{pkg.sha256}" in reader.stored()


@pytest.mark.timeout(300)
def test_a_20_mb_package_round_trips(make_store: StoreFactory) -> None:
    name = fn_name()
    blob = os.urandom(20 * 1024 * 1024)  # incompressible: the zip is about 20 MB too
    pkg = package_zip(make_zip({"app.py": b"X = 1\n", "model.bin": blob}), "app.handler")
    assert pkg.data is not None and pkg.size > 20 * 1024 * 1024
    asyncio.run(make_store("writer").put(name, pkg.sha256, pkg.data))
    path = make_store("later").fetch(name, pkg.sha256, timeout=120)
    assert Path(path, "model.bin").read_bytes() == blob


def test_delete_tombstones_the_package(make_store: StoreFactory) -> None:
    name = fn_name()
    pkg = package_zip(make_zip({"app.py": b"X = 1\n"}), "app.handler")
    assert pkg.data is not None
    writer = make_store("writer")
    asyncio.run(writer.put(name, pkg.sha256, pkg.data))
    follower = make_store("follower")
    follower.fetch(name, pkg.sha256)

    asyncio.run(writer.delete(name, pkg.sha256))
    with pytest.raises(ResourceNotFound, match=r"is not in eventplane\.fn\.code"):
        make_store("later").fetch(name, pkg.sha256)
    # A replica that already followed the topic drops the key from its index ...
    follower.evict(name)
    with pytest.raises(ResourceNotFound):
        follower.fetch(name, pkg.sha256)
    assert f"{name}:{pkg.sha256}" not in follower.stored()


def test_unknown_package_is_not_found(make_store: StoreFactory) -> None:
    pkg = package_zip(make_zip({"app.py": b"nothing stored\n"}), "app.handler")
    with pytest.raises(ResourceNotFound):
        make_store("r").fetch(fn_name(), pkg.sha256)


def test_the_local_copy_is_reused(make_store: StoreFactory) -> None:
    name = fn_name()
    pkg = package_zip(make_zip({"app.py": b"X = 1\n"}), "app.handler")
    assert pkg.data is not None
    asyncio.run(make_store("writer").put(name, pkg.sha256, pkg.data))
    store = make_store("r")
    path = store.fetch(name, pkg.sha256)
    Path(path, "marker").write_text("still here")
    store.close()  # no Kafka needed for a package already on disk
    assert store.fetch(name, pkg.sha256) == path
    assert Path(path, "marker").read_text() == "still here"


def test_concurrent_fetches_extract_once(make_store: StoreFactory) -> None:
    name = fn_name()
    pkg = package_zip(make_zip({"app.py": b"X = 1\n"}), "app.handler")
    assert pkg.data is not None
    asyncio.run(make_store("writer").put(name, pkg.sha256, pkg.data))
    store = make_store("r")
    paths: list[str] = []
    errors: list[BaseException] = []

    def fetch() -> None:
        try:
            paths.append(store.fetch(name, pkg.sha256))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert len(set(paths)) == 1 and len(paths) == 8
    # No temporary folders left beside the package.
    assert os.listdir(Path(paths[0]).parent) == [Path(paths[0]).name]


def test_put_refuses_a_mismatched_hash(make_store: StoreFactory) -> None:
    pkg = package_zip(make_zip({"app.py": b"X = 1\n"}), "app.handler")
    with pytest.raises(ValueError, match="CodeSha256"):
        asyncio.run(make_store("w").put(fn_name(), pkg.sha256, b"other bytes"))

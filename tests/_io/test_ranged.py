"""Verified ranged reads (``archivist._io.ranged``) through a store, on local disk and in memory.

Each test reads part of a large version and attacks it: a block changed on disk, a file
that grew, a range past the end; a read fetches only the blocks it covers.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import fsspec
import pytest

from archivist import IntegrityError, Repository
from archivist._io.ranged import RangedReader

MIB = 1 << 20
BLOCK = 4 * MIB
#: 9 MiB and a little: three blocks, the last one short.
DATA = bytes(range(251)) * (9 * MIB // 251 + 7)


def save(url: str) -> Repository:
    repository = Repository(url, mode="w")
    repository.log_artifact("large", DATA, handler="pickle")
    repository.save()
    return Repository(url, mode="r")


def open_large(repository: Repository) -> tuple[RangedReader, Any]:
    (record,) = [r for r in repository.store.read().records if r.name == "large"]
    return repository.store.open_ranged(record), record


@pytest.fixture(params=["local", "memory"])
def url(request: pytest.FixtureRequest, repo_path: Path, memory_url: str) -> str:
    return str(repo_path) if request.param == "local" else memory_url


def stored_bytes(url: str, record: Any) -> tuple[Any, str]:
    fs, _, (root,) = fsspec.get_fs_token_paths(url)
    path = f"{root.rsplit('/', 1)[0]}/large/{record.fname}"
    return fs, path


def test_a_range_reads_exactly_those_bytes_fetching_only_its_blocks(url: str) -> None:
    reader, record = open_large(save(url))
    with reader:
        size = record.size
        assert reader.size == size and reader.seekable()
        reader.seek(BLOCK + 100)
        assert reader.read(1000) == pickled(url, record)[BLOCK + 100 : BLOCK + 1100]
        assert reader.fetched == 1  # only block 1
        reader.seek(BLOCK - 10)
        assert reader.read(20) == pickled(url, record)[BLOCK - 10 : BLOCK + 10]
        assert reader.fetched == 2  # block 0 added; block 1 kept
        reader.seek(0)
        assert reader.read() == pickled(url, record)
        assert reader.tell() == size
        assert reader.read(10) == b""  # past the end: nothing
        reader.seek(size + 100)
        assert reader.read(10) == b""
        assert io.BufferedReader(reader).read(5) == b""


def pickled(url: str, record: Any) -> bytes:
    fs, path = stored_bytes(url, record)
    return bytes(fs.cat_file(path))


def test_a_changed_block_is_refused_naming_it_and_other_blocks_still_read(url: str) -> None:
    repository = save(url)
    (record,) = repository.store.read().records
    fs, path = stored_bytes(url, record)
    data = bytearray(fs.cat_file(path))
    original = bytes(data)
    data[BLOCK + 5] ^= 1
    fs.rm(path)
    fs.pipe_file(path, bytes(data))
    reader, _ = open_large(repository)
    with reader:
        assert reader.read(100) == original[:100]  # block 0 is intact and verified
        reader.seek(BLOCK)
        buffer = bytearray(b"\0" * 10)
        with pytest.raises(IntegrityError, match=r"block 1 \(bytes 4194304 to 8388608\)"):
            reader.readinto(buffer)
        assert buffer == bytearray(10)  # no byte of the block was handed out
        reader.seek(2 * BLOCK)
        assert reader.read(50) == original[2 * BLOCK : 2 * BLOCK + 50]


def test_a_file_that_grew_is_read_only_to_its_recorded_size(url: str) -> None:
    repository = save(url)
    (record,) = repository.store.read().records
    fs, path = stored_bytes(url, record)
    data = bytes(fs.cat_file(path))
    fs.rm(path)
    fs.pipe_file(path, data + b"appended later")
    reader, _ = open_large(repository)
    with reader:
        assert reader.read() == data


def test_a_block_list_that_does_not_match_is_refused_before_any_read(url: str) -> None:
    repository = save(url)
    (record,) = repository.store.read().records
    fs, _ = stored_bytes(url, record)
    root = url.rsplit("/", 1)[0]
    side = f"{root}/.{url.rsplit('/', 1)[1]}.archivist/blocks/large/{record.fname}"
    listed = json.loads(fs.cat_file(side))
    listed["blocks"].reverse()  # the blocks swapped
    fs.rm(side)
    fs.pipe_file(side, json.dumps(listed).encode())
    with pytest.raises(IntegrityError, match="does not match its manifest record"):
        open_large(repository)


def test_a_version_without_a_block_list_has_no_ranged_reader(repo_path: Path) -> None:
    repository = Repository(repo_path, mode="w")
    repository.log_artifact("small", b"x", handler="pickle")
    repository.save()
    (record,) = repository.store.read().records
    with pytest.raises(IntegrityError, match="records no block list"):
        repository.store.open_ranged(record)

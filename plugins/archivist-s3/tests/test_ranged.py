"""Verified ranged reads on the S3 emulator: ranged GETs of the blocks a read covers."""

from __future__ import annotations

from typing import Any

import pytest
from s3fs import S3FileSystem

from archivist import IntegrityError, Repository

MIB = 1 << 20
BLOCK = 4 * MIB
DATA = bytes(range(251)) * (9 * MIB // 251 + 7)


def test_a_range_is_fetched_and_verified_block_by_block(
    s3_bucket: str, s3_options: dict[str, Any]
) -> None:
    url = f"s3://{s3_bucket}/team/repository.json"
    repository = Repository(url, mode="w", storage_options=s3_options)
    repository.log_artifact("large", DATA, handler="pickle")
    repository.save()
    (record,) = repository.store.read().records
    fs = S3FileSystem(skip_instance_cache=True, **s3_options)
    path = f"{s3_bucket}/team/large/{record.fname}"
    stored = bytes(fs.cat_file(path))

    with repository.store.open_ranged(record) as reader:
        reader.seek(BLOCK + 10)
        assert reader.read(100) == stored[BLOCK + 10 : BLOCK + 110]
        assert reader.fetched == 1
        reader.seek(0)
        assert reader.read() == stored
        assert reader.fetched == 3

    changed = bytearray(stored)
    changed[2 * BLOCK + 1] ^= 1
    fs.pipe_file(path, bytes(changed))  # replaced behind archivist's back
    with repository.store.open_ranged(record) as reader:
        assert reader.read(10) == stored[:10]
        reader.seek(2 * BLOCK)
        with pytest.raises(IntegrityError, match=r"block 2 \(bytes 8388608 to "):
            reader.read(10)

"""lazyscribe 2.2.2 reads every file archivist writes with BLAKE3 digests and block lists.

archivist's new records add ``blake3`` and, for a file past the block-list threshold, a nested
``blocks`` object, and keep a side object in the manifest's private folder. lazyscribe ignores
fields it does not know: the same repository, read by both, gives the same values, versions
and fields (archivist's additive ones aside), and a lazyscribe save into it keeps working.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import lazyscribe

import archivist

#: Past the block-list threshold (8 MiB): this version gets ``blocks`` and a side object.
LARGE = bytes(range(256)) * (9 * 4096)
ADDITIVE = {"sha256", "blake3", "blocks", "size"}


def test_lazyscribe_reads_what_archivist_writes_with_blake3_and_blocks(tmp_path: Path) -> None:
    manifest = tmp_path / "repository.json"
    ours = archivist.Repository(manifest, mode="w")
    ours.log_artifact("small", {"w": [1, 2]}, handler="pickle")
    ours.log_artifact("features", ["a", "b"], handler="json")
    ours.log_artifact("large", LARGE, handler="pickle")
    ours.save()
    stored: list[dict[str, Any]] = json.loads(manifest.read_text())
    large = next(r for r in stored if r["name"] == "large")
    assert {"blake3", "blocks"} <= set(large)  # the fields under test are really there
    assert all("blake3" in r for r in stored)

    theirs = lazyscribe.Repository(str(manifest), mode="r")
    mine = archivist.Repository(manifest, mode="r")
    for name in ("small", "features", "large"):
        assert theirs.load_artifact(name) == mine.load_artifact(name), name
        their_fields = theirs.get_artifact_metadata(name)
        my_fields = {k: v for k, v in mine.get_artifact_metadata(name).items() if k not in ADDITIVE}
        assert {k: v for k, v in their_fields.items() if k in my_fields} == {
            **my_fields,
            "created_at": my_fields["created_at"][:19],  # lazyscribe keeps seconds
        }, name

    # a lazyscribe save into the repository works, and archivist still reads everything
    writer = lazyscribe.Repository(str(manifest), mode="w+")
    writer.log_artifact("notes", ["draft"], handler="json")
    writer.save()
    again = archivist.Repository(manifest, mode="r")
    assert again.load_artifact("large") == LARGE
    assert again.load_artifact("notes") == ["draft"]

"""lazyscribe's how-to "Log a project to an external file system" (docs/how-to/external-fs.rst).

The guide's code runs with the import changed only, against moto's S3 server (the guide's
``username``/``password`` are placeholders; the emulator's own storage options take their
place). Then the project is used "as normal" and compared with lazyscribe on the same store.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from s3fs import S3FileSystem

from archivist.testing.emulators import Emulator, start_moto, unique_bucket_name


@pytest.fixture(scope="module")
def s3() -> Iterator[Emulator]:
    with start_moto() as emulator:
        yield emulator


@pytest.fixture
def bucket(s3: Emulator) -> str:
    name = unique_bucket_name("guide")
    S3FileSystem(skip_instance_cache=True, **s3.storage_options).mkdir(name)
    return name


def test_external_fs_guide(s3: Emulator, bucket: str) -> None:
    from archivist import Project

    project_path = f"s3://{bucket}/path/to/my/project.json"
    storage_options: dict[str, Any] = dict(s3.storage_options)

    project = Project(project_path, mode="w", **storage_options)

    with project.log("My experiment") as exp:
        exp.log_metric("metric", 0.5)
        exp.log_artifact(name="features", value=[1, 2], handler="json")
    project.save()

    assert project.protocol == "s3"
    assert isinstance(project.fs, S3FileSystem)
    assert project.fpath == Path(f"{bucket}/path/to/my/project.json")
    assert exp.path == Path(f"{bucket}/path/to/my/{exp.slug}")
    assert exp.fs is project.fs
    reread = Project(project_path, mode="r", **storage_options)["my-experiment"]
    assert reread.load_artifact("features") == [1, 2]
    assert reread.path == exp.path


def test_same_paths_and_records_as_lazyscribe(s3: Emulator, bucket: str) -> None:
    from lazyscribe import Project as LazyscribeProject

    from archivist import Project

    url = f"s3://{bucket}/project.json"
    options = dict(s3.storage_options)
    project = Project(url, mode="w", **options)
    with project.log("My experiment") as exp:
        exp.log_metric("metric", 0.5)
        with exp.log_test("Region") as test:
            test.log_metric("metric", 0.25)
    project.save()
    ours = Project(url, mode="r", **options)
    theirs = LazyscribeProject(url, mode="r", **options)
    assert (ours.fpath, ours.protocol) == (theirs.fpath, theirs.protocol)
    assert list(ours) == list(theirs)
    assert ours["my-experiment"].path == theirs["my-experiment"].path
    assert ours["my-experiment"].dir == theirs["my-experiment"].dir
    assert ours["my-experiment"].tests[0].path == theirs["my-experiment"].tests[0].path

"""Many processes writing one local repository: no version is ever lost or half-committed."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archivist import Repository

WRITER = """
import sys
from archivist import Repository

path, worker, saves = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(saves):
    repository = Repository(path, mode="a")
    repository.log_artifact("shared", {"worker": worker, "i": i}, handler="json")
    repository.save()
"""

FOREVER = """
import sys
from archivist import Repository

path = sys.argv[1]
payload = bytes(range(256)) * 2048  # 512 KiB per version widens the window for a kill
Repository(path, mode="r")  # imports and plugin discovery done: from here on, only saves
print("ready", flush=True)
i = 0
while True:
    repository = Repository(path, mode="a")
    for name in ("model", "features", "model"):
        repository.log_artifact(name, (i, payload), handler="pickle")
    repository.save()
    i += 1
"""


def _spawn(code: str, *args: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *(str(a) for a in args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
def test_four_processes_append_25_saves_each(repo_path: Path) -> None:
    Repository(repo_path, mode="w").save()  # an empty repository
    workers = [_spawn(WRITER, repo_path, w, 25) for w in range(4)]
    for proc in workers:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()

    repository = Repository(repo_path, mode="r")
    assert repository.versions("shared") == list(range(100))
    values = [repository.load_artifact("shared", version=v) for v in range(100)]
    assert sorted((v["worker"], v["i"]) for v in values) == [
        (w, i) for w in range(4) for i in range(25)
    ]
    for worker in range(4):  # each writer's own versions stay in its order
        mine = [v["i"] for v in values if v["worker"] == worker]
        assert mine == sorted(mine)
    assert repository.verify().orphans == []


@pytest.mark.slow
def test_sigkill_at_any_moment_leaves_a_loadable_repository(repo_path: Path) -> None:
    rng = random.Random(20261126)
    Repository(repo_path, mode="w").save()
    seen_versions = 0
    for _ in range(12):
        proc = _spawn(FOREVER, repo_path)
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"ready\n", proc.stderr.read() if proc.stderr else ""
        time.sleep(rng.uniform(0.05, 0.6))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

        repository = Repository(repo_path, mode="r")  # opens: the manifest is whole
        report = repository.verify()  # every committed version is present and intact
        total = len(repository)
        assert total >= seen_versions  # committed versions are never lost
        seen_versions = total
        for name in ("model", "features"):
            if name in repository:
                assert repository.versions(name) == list(range(len(repository.versions(name))))
                repository.load_artifact(name)
        assert report.checked == total
    assert seen_versions > 0
    # a new writer after all those crashes still commits normally
    repository = Repository(repo_path, mode="a")
    repository.log_artifact("features", "after", handler="json")
    repository.save()
    assert Repository(repo_path, mode="r").load_artifact("features") == "after"

"""The fault-injecting backend fails exactly the planned call, at exactly the planned moment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from archivist import ManifestStore, Repository
from archivist.errors import StaleTokenError
from archivist.stores import open_backend
from archivist.testing import PHASES, PRIMITIVES, Fault, FaultPlan, FaultyBackend, InjectedFault

DOC = Path(__file__).resolve().parents[2] / "docs" / "cloud-storage.md"


def _backend(tmp_path: Path, *faults: Fault) -> tuple[FaultyBackend, str]:
    inner, base = open_backend(tmp_path / "store")
    return FaultyBackend(inner, FaultPlan(*faults)), base


def test_every_primitive_takes_before_and_after_and_streams_take_during() -> None:
    assert set(PRIMITIVES) >= {"read_with_token", "replace_if_unchanged", "open_new", "sync"}
    for primitive in PRIMITIVES:
        assert {"before", "after"} <= set(PHASES[primitive])
    assert [p for p in PRIMITIVES if "during" in PHASES[p]] == ["open_new", "list", "open_read"]
    with pytest.raises(ValueError, match="takes the phases"):
        Fault("replace_if_unchanged", "during")
    with pytest.raises(ValueError, match="positive"):
        Fault("sync", nth=0)


def test_before_changes_nothing_and_after_lands(tmp_path: Path) -> None:
    backend, base = _backend(tmp_path, Fault("replace_if_unchanged", "before"))
    path = f"{base}/file"
    with pytest.raises(InjectedFault, match=r"before replace_if_unchanged\(.*/file\)"):
        backend.replace_if_unchanged(path, b"one", None)
    assert not backend.inner.exists(path)

    backend.plan = FaultPlan(Fault("replace_if_unchanged", "after", StaleTokenError))
    with pytest.raises(StaleTokenError):
        backend.replace_if_unchanged(path, b"one", None)
    assert backend.inner.read_bytes(path) == b"one"  # the write landed; its answer was lost


def test_nth_times_and_match_choose_the_calls(tmp_path: Path) -> None:
    fault = Fault("read_with_token", nth=2, times=2, match="*/b")
    backend, base = _backend(tmp_path, fault)
    for name in ("a", "b"):
        backend.inner.write_if_absent(f"{base}/{name}", name.encode())
    outcomes = []
    for name in ("a", "b", "a", "b", "b", "b"):
        try:
            backend.read_with_token(f"{base}/{name}")
            outcomes.append("ok")
        except InjectedFault:
            outcomes.append("fail")
    assert outcomes == ["ok", "ok", "ok", "fail", "fail", "ok"]
    assert backend.plan.fired == [fault, fault]
    assert backend.plan.count("read_with_token") == 6


def test_open_new_fails_during_and_after(tmp_path: Path) -> None:
    backend, base = _backend(tmp_path, Fault("open_new", "during", KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt), backend.open_new(f"{base}/cut") as stream:
        stream.write(b"0123456789")
    assert not backend.inner.exists(f"{base}/cut")  # a stream cut off mid-file leaves nothing

    backend.plan = FaultPlan(Fault("open_new", "after"))
    with pytest.raises(InjectedFault), backend.open_new(f"{base}/landed") as stream:
        stream.write(b"whole")
    assert backend.inner.read_bytes(f"{base}/landed") == b"whole"


def test_reads_and_listings_break_off_during(tmp_path: Path) -> None:
    backend, base = _backend(tmp_path, Fault("open_read", "during"), Fault("list", "during"))
    for name in ("a", "b", "c"):
        backend.inner.write_if_absent(f"{base}/{name}", bytes(1000))
    with backend.open_read(f"{base}/a") as stream, pytest.raises(InjectedFault):
        stream.read()
    listing = backend.list(base)
    assert next(listing).startswith(base)
    with pytest.raises(InjectedFault):
        next(listing)


def test_a_crash_stops_every_later_call(tmp_path: Path) -> None:
    backend, base = _backend(tmp_path, Fault("sync", "before", SystemExit, crash=True))
    backend.write_if_absent(f"{base}/kept", b"data")
    with pytest.raises(SystemExit):
        backend.sync([f"{base}/kept"])
    with pytest.raises(SystemExit):
        backend.delete(f"{base}/kept")  # the process is "dead": no clean-up reaches storage
    assert backend.inner.exists(f"{base}/kept")
    assert [primitive for primitive, _ in backend.plan.calls] == ["open_new", "sync", "delete"]


def test_a_repository_saves_through_it(tmp_path: Path) -> None:
    url = str(tmp_path / "repository.json")
    backend = FaultyBackend(open_backend(url)[0])
    repository = Repository(url, mode="w", store=ManifestStore(url, backend=backend))
    repository.log_artifact("features", [1, 2], handler="json")
    repository.save()
    assert Repository(url, mode="r").load_artifact("features") == [1, 2]
    # the kept digests (docs/design.md, "Kept digests"), then the manifest
    assert backend.plan.count("replace_if_unchanged") == 2
    assert backend.plan.count("open_new") >= 1


def test_the_documented_example_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)
    [example] = [block for block in blocks if "FaultyBackend" in block]
    exec(compile(example, str(DOC), "exec"), {})


def test_armed_by_counts_calls_only_after_another_fault_fired(tmp_path: Path) -> None:
    first = Fault("sync", "before")
    then = Fault("exists", "before", times=None, armed_by=first)
    backend, base = _backend(tmp_path, first, then)
    assert backend.exists(f"{base}/x") is False  # not armed yet
    with pytest.raises(InjectedFault):
        backend.sync([])
    for _ in range(3):
        with pytest.raises(InjectedFault):
            backend.exists(f"{base}/x")
    assert backend.plan.fired == [first, then, then, then]

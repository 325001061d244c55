"""Saves, promotions and release appends under every storage fault: nothing committed is lost.

Each test runs one write through a :class:`~archivist.testing.faults.FaultyBackend` that fails
one call of one primitive, before, during or after it, with an ``OSError``, a
``StorageError`` or ``KeyboardInterrupt``, and then, with a clean backend, checks the
contract of docs/design.md:

* the repository opens, every committed version loads, and ``verify()`` passes (no file the
  manifest names was deleted);
* the write committed all of its versions or none, and none twice;
* a write that returned normally committed everything; Ctrl-C is never swallowed;
* the next save works.

Every call of the primitive is failed in turn (the first, the second, ...) until a save runs
through without the fault firing, so the tests follow the commit protocol's calls as it
changes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from archivist import ManifestStore, Project, Release, ReleaseStore, Repository
from archivist.errors import AlreadyExistsError, StaleTokenError, StorageError
from archivist.stores import open_backend
from archivist.testing.backends import RecordingCallback
from archivist.testing.commits import crash_at_commit
from archivist.testing.faults import (
    PHASES,
    Fault,
    FaultPlan,
    FaultyBackend,
    InjectedFault,
    Phase,
    Primitive,
)

#: The errors a store call can end with: an OS/SDK error, archivist's own, and Ctrl-C.
ERRORS: dict[str, type[BaseException]] = {
    "oserror": InjectedFault,
    "storage-error": StorageError,
    "ctrl-c": KeyboardInterrupt,
}
#: The most calls of one primitive a single write is expected to make.
MAX_CALLS = 24


def _cases(*calls: Primitive) -> list[Any]:
    """Every phase and error of each storage call a write path makes (and only those)."""
    cases = [
        pytest.param(primitive, phase, error, id=f"{primitive}-{phase}-{label}")
        for primitive in calls
        for phase in PHASES[primitive]
        for label, error in ERRORS.items()
    ]
    if "replace_if_unchanged" in calls:
        # A client that retries a request whose answer was lost sees its retry refused by
        # the condition the first attempt satisfied (S3 SDKs do this on a timeout).
        cases.append(
            pytest.param(
                "replace_if_unchanged",
                "after",
                StaleTokenError,
                id="replace_if_unchanged-after-stale",
            )
        )
    return cases


# The storage calls each write path makes; _done fails a case whose call never happens.
SAVE_CASES = _cases("replace_if_unchanged", "open_new", "sync", "delete")
PROMOTION_CASES = _cases("replace_if_unchanged", "open_new", "sync", "delete", "open_read")
RELEASE_CASES = _cases("read_with_token", "replace_if_unchanged")
PROJECT_CASES = _cases("read_with_token", "replace_if_unchanged", "open_new", "sync")


def _faulty_store(manifest: Path) -> tuple[ManifestStore, FaultyBackend]:
    backend = FaultyBackend(open_backend(manifest)[0])
    return ManifestStore(manifest, backend=backend), backend


def _attempt(action: Callable[..., object], *args: Any) -> BaseException | None:
    """Run ``action(*args)``; return what it raised (Ctrl-C included), or ``None``."""
    try:
        action(*args)
    except BaseException as exc:
        return exc
    return None


def _done(plan: FaultPlan, nth: int, primitive: Primitive) -> bool:
    """Tell whether the loop over calls is done: the fault no longer fired.

    The first call always fires: a case whose path never makes a ``primitive`` call would
    test nothing, so the grids list only the calls each path makes.
    """
    if plan.fired:
        return False
    assert nth > 1, f"this path makes no {primitive} call: the case injects nothing"
    return True


def _check_raised(
    plan: FaultPlan, error: type[BaseException], raised: BaseException | None
) -> None:
    """A write that saw no fault succeeds; an injected Ctrl-C reaches the caller."""
    if not plan.fired:
        assert raised is None, f"nothing was injected, yet the write raised {raised!r}"
    elif error is KeyboardInterrupt:
        assert isinstance(raised, KeyboardInterrupt), f"Ctrl-C was swallowed: {raised!r}"


def _all_values(manifest: Path) -> list[tuple[str, int, Any]]:
    """Open the repository cleanly, verify it, and load every committed version."""
    repository = Repository(manifest, mode="r")
    report = repository.verify()  # raises IntegrityError if a named file is missing
    assert report.checked == len(repository)
    values = []
    for name in sorted({record.name for record in repository.artifacts}):
        versions = repository.versions(name)
        assert versions == list(range(len(versions))), f"{name} has gaps: {versions}"
        values += [(name, v, repository.load_artifact(name, version=v)) for v in versions]
    return values


def _check_all_or_nothing(
    values: list[tuple[str, int, Any]], new: list[tuple[str, Any]], committed: bool | None
) -> None:
    """Every new value is stored once, or none is; ``committed`` says which if known."""
    counts = [sum(1 for n, _, v in values if (n, v) == item) for item in new]
    assert set(counts) in ({0}, {1}), f"a save committed part of its versions, or twice: {counts}"
    if committed is not None:
        assert counts[0] == (1 if committed else 0)


def _save_works_afterwards(manifest: Path) -> None:
    repository = Repository(manifest, mode="a")
    repository.log_artifact("model", {"after": True}, handler="json")
    repository.save()
    assert Repository(manifest, mode="r").load_artifact("model") == {"after": True}
    Repository(manifest, mode="r").verify()


def _each_call(primitive: Primitive) -> Iterator[int]:
    """Yield 1, 2, ... (the call to fail); the test stops once a fault no longer fires."""
    yield from range(1, MAX_CALLS + 1)
    raise AssertionError(f"a write made more than {MAX_CALLS} {primitive} calls")


# -- Repository.save ---------------------------------------------------------------------------

NEW = [("model", {"save": "new"}), ("features", [1, 2, 3])]


def _seed_repository(manifest: Path) -> None:
    repository = Repository(manifest, mode="w")
    repository.log_artifact("model", {"save": "first"}, handler="json")
    repository.log_artifact("metrics", {"auc": 0.5}, handler="json")
    repository.save()


def _fail_each_call(
    tmp_path: Path,
    fault: tuple[Primitive, Phase, type[BaseException]],
    save: Callable[[Repository], Callable[[], object]],
    after: Callable[[BaseException | None], None] = lambda raised: None,
    *,
    save_again: bool = True,
) -> None:
    """Fail the save at each call of the primitive in turn; check what it leaves behind."""
    primitive, phase, error = fault
    for nth in _each_call(primitive):
        manifest = tmp_path / f"call-{nth}" / "repository.json"
        _seed_repository(manifest)
        seeded = _all_values(manifest)
        store, backend = _faulty_store(manifest)
        repository = Repository(manifest, mode="a", store=store)
        for name, value in NEW:
            repository.log_artifact(name, value, handler="json")
        backend.plan = plan = FaultPlan(Fault(primitive, phase, error, nth=nth))

        raised = _attempt(save(repository))

        _check_raised(plan, error, raised)
        after(raised)
        values = _all_values(manifest)
        assert all(item in values for item in seeded), "a committed version changed or vanished"
        _check_all_or_nothing(values, NEW, committed=True if raised is None else None)
        if save_again:
            _save_works_afterwards(manifest)
        if _done(plan, nth, primitive):
            break


@pytest.mark.parametrize(("primitive", "phase", "error"), SAVE_CASES)
def test_a_failed_save_keeps_every_committed_version(
    tmp_path: Path, primitive: Primitive, phase: Phase, error: type[BaseException]
) -> None:
    _fail_each_call(tmp_path, (primitive, phase, error), lambda repository: repository.save)


@pytest.mark.parametrize(("primitive", "phase", "error"), _cases("open_new"))
def test_a_failed_save_with_progress_never_reports_past_its_total(
    tmp_path: Path, primitive: Primitive, phase: Phase, error: type[BaseException]
) -> None:
    """The spooled save fails as the direct one does; its report stops within its total."""
    recording = RecordingCallback()

    def save(repository: Repository) -> Callable[[], object]:
        nonlocal recording
        recording = RecordingCallback()
        return functools.partial(repository.save, progress=recording)

    def reported(raised: BaseException | None) -> None:
        if recording.events:  # the save got as far as its files: the total came first
            assert recording.events[0][0] == "size" and recording.closed
            assert recording.value <= recording.size
        if raised is None:
            assert recording.value == recording.size

    _fail_each_call(tmp_path, (primitive, phase, error), save, reported, save_again=False)


@pytest.mark.parametrize(
    ("phase", "error"),
    [
        pytest.param("after", InjectedFault, id="lost-ack-oserror"),
        pytest.param("after", StorageError, id="lost-ack-storage-error"),
        pytest.param("after", KeyboardInterrupt, id="lost-ack-ctrl-c"),
        pytest.param("before", InjectedFault, id="never-sent"),
    ],
)
def test_saving_again_after_a_failed_commit_stores_each_version_once(
    tmp_path: Path, phase: Phase, error: type[BaseException]
) -> None:
    """The natural reaction to a failed save is to call save() again: nothing doubles."""
    manifest = tmp_path / "repository.json"
    _seed_repository(manifest)
    store, backend = _faulty_store(manifest)
    repository = Repository(manifest, mode="a", store=store)
    for name, value in NEW:
        repository.log_artifact(name, value, handler="json")
    backend.plan = FaultPlan(Fault("replace_if_unchanged", phase, error, match="*.json"))
    first = _attempt(repository.save)
    assert first is not None
    backend.plan = FaultPlan()

    repository.save()

    _check_all_or_nothing(_all_values(manifest), NEW, committed=True)


def test_a_lost_acknowledgement_keeps_the_files_the_manifest_names(tmp_path: Path) -> None:
    """The commit landed, its answer was lost: every file it names is still there."""
    manifest = tmp_path / "repository.json"
    _seed_repository(manifest)
    store, backend = _faulty_store(manifest)
    repository = Repository(manifest, mode="a", store=store)
    repository.log_artifact("model", {"save": "new"}, handler="json")
    backend.plan = FaultPlan(
        Fault("replace_if_unchanged", "after", InjectedFault, match="*/repository.json")
    )
    with pytest.raises(OSError, match="injected fault after replace_if_unchanged"):
        repository.save()

    committed = Repository(manifest, mode="r")
    assert committed.load_artifact("model") == {"save": "new"}
    assert committed.verify().checked == 3


def test_a_crash_before_the_commit_changes_no_committed_version(tmp_path: Path) -> None:
    """The process dies after writing its files: the manifest and its files are as before."""
    manifest = tmp_path / "repository.json"
    _seed_repository(manifest)
    seeded = _all_values(manifest)
    repository = Repository(manifest, mode="a")
    repository.log_artifact("model", {"save": "new"}, handler="json")
    with crash_at_commit(repository):
        repository.save()
    assert _all_values(manifest) == seeded


# -- Experiment.promote_artifact ---------------------------------------------------------------


def _saved_project(folder: Path) -> Path:
    path = folder / "experiments" / "project.json"
    project = Project(path, mode="w")
    with project.log("my-experiment") as experiment:
        experiment.log_artifact(name="features", value=[7, 8, 9], handler="json")
    project.save()
    return path


@pytest.mark.parametrize(("primitive", "phase", "error"), PROMOTION_CASES)
def test_a_failed_promotion_keeps_every_committed_version(
    tmp_path: Path, primitive: Primitive, phase: Phase, error: type[BaseException]
) -> None:
    for nth in _each_call(primitive):
        folder = tmp_path / f"call-{nth}"
        project_path = _saved_project(folder)
        manifest = folder / "repository.json"
        _seed_repository(manifest)
        seeded = _all_values(manifest)
        store, backend = _faulty_store(manifest)
        repository = Repository(manifest, mode="a", store=store)
        experiment = Project(project_path, mode="r")["my-experiment"]
        backend.plan = plan = FaultPlan(Fault(primitive, phase, error, nth=nth))

        raised = _attempt(experiment.promote_artifact, repository, "features")

        _check_raised(plan, error, raised)
        values = _all_values(manifest)
        assert all(item in values for item in seeded), "a committed version changed or vanished"
        promoted = [("features", [7, 8, 9])]
        _check_all_or_nothing(values, promoted, committed=True if raised is None else None)
        reread = Project(project_path, mode="r")["my-experiment"]
        assert reread.load_artifact("features") == [7, 8, 9]  # the source is untouched
        _save_works_afterwards(manifest)
        if _done(plan, nth, primitive):
            break


# -- ReleaseStore.add --------------------------------------------------------------------------


@pytest.mark.parametrize(("primitive", "phase", "error"), RELEASE_CASES)
def test_a_failed_release_append_is_never_duplicated(
    tmp_path: Path, primitive: Primitive, phase: Phase, error: type[BaseException]
) -> None:
    for nth in _each_call(primitive):
        path = tmp_path / f"call-{nth}" / "releases.json"
        ReleaseStore(path).add(Release("v0.1.0", [("model", 0)]))
        backend = FaultyBackend(open_backend(path)[0])
        store = ReleaseStore(path, backend=backend)
        release = Release("v0.2.0", [("model", 1), ("features", 0)])
        backend.plan = plan = FaultPlan(Fault(primitive, phase, error, nth=nth))

        raised = _attempt(store.add, release)

        _check_raised(plan, error, raised)
        tags = [r.tag for r in ReleaseStore(path).list()]
        assert tags in (["v0.1.0"], ["v0.1.0", "v0.2.0"]), tags
        if raised is None:
            assert tags == ["v0.1.0", "v0.2.0"]
        # The user tries again: the release ends up stored exactly once.
        retry = _attempt(ReleaseStore(path).add, release)
        assert retry is None or isinstance(retry, AlreadyExistsError), retry
        assert [r.tag for r in ReleaseStore(path).list()] == ["v0.1.0", "v0.2.0"]
        if _done(plan, nth, primitive):
            break


def test_a_release_whose_acknowledgement_is_lost_lands_once(tmp_path: Path) -> None:
    """The append landed; the retried request is refused: add() returns, one entry."""
    path = tmp_path / "releases.json"
    backend = FaultyBackend(open_backend(path)[0])
    backend.plan = plan = FaultPlan(Fault("replace_if_unchanged", "after", StaleTokenError))
    ReleaseStore(path, backend=backend).add(Release("v1.0.0", [("model", 0)]))
    assert plan.fired
    assert [r.tag for r in ReleaseStore(path).list()] == ["v1.0.0"]


def _tree(folder: Path) -> set[str]:
    """Every file below ``folder``, except the manifest's own bookkeeping folder."""
    return {
        str(path.relative_to(folder))
        for path in folder.rglob("*")
        if path.is_file() and not path.relative_to(folder).parts[0].endswith(".archivist")
    }


@pytest.mark.parametrize("error", list(ERRORS.values()), ids=list(ERRORS))
def test_a_save_whose_replace_failed_keeps_its_files_for_gc(
    tmp_path: Path, error: type[BaseException]
) -> None:
    """The replace failed with no answer: the save cannot tell it was never sent (a request
    in flight may land after any re-read), so its files stay until gc proves them unnamed."""
    manifest = tmp_path / "repository.json"
    _seed_repository(manifest)
    before = _tree(tmp_path)
    store, backend = _faulty_store(manifest)
    repository = Repository(manifest, mode="a", store=store)
    repository.log_artifact("model", {"save": "new"}, handler="json")
    backend.plan = FaultPlan(
        Fault("replace_if_unchanged", "before", error, match="*/repository.json")
    )
    raised = _attempt(repository.save)
    assert isinstance(raised, (error, StorageError)), raised
    assert len(_tree(tmp_path) - before) == 1
    Repository(manifest, mode="a").gc(older_than=timedelta(0))
    assert _tree(tmp_path) == before


# -- Project.save ------------------------------------------------------------------------------


def _project_state(path: Path) -> dict[str, Any]:
    """Open the project cleanly and load every experiment's artifacts (digests checked)."""
    project = Project(path, mode="r")
    return {
        experiment.name: {
            artifact: experiment.load_artifact(artifact)
            for artifact in ("features", "model")
            if artifact in {a["name"] for a in experiment.to_dict().get("artifacts", [])}
        }
        for experiment in project.experiments
    }


@pytest.mark.parametrize(("primitive", "phase", "error"), PROJECT_CASES)
def test_a_failed_project_save_keeps_every_saved_experiment(
    tmp_path: Path, primitive: Primitive, phase: Phase, error: type[BaseException]
) -> None:
    for nth in _each_call(primitive):
        path = tmp_path / f"call-{nth}" / "project.json"
        project = Project(path, mode="w")
        with project.log("first") as experiment:
            experiment.log_artifact(name="features", value=[1], handler="json")
        project.save()
        seeded = _project_state(path)
        project = Project(path, mode="a")
        project.backend = backend = FaultyBackend(project.backend)
        with project.log("second") as experiment:
            experiment.log_artifact(name="features", value=[2], handler="json")
            experiment.log_artifact(name="model", value={"second": True}, handler="json")
        backend.plan = plan = FaultPlan(Fault(primitive, phase, error, nth=nth))

        raised = _attempt(project.save)

        _check_raised(plan, error, raised)
        state = _project_state(path)
        assert {k: v for k, v in state.items() if k != "second"} == seeded
        second = {"features": [2], "model": {"second": True}}
        if raised is None:
            assert state.get("second") == second
        else:
            assert state.get("second") in (None, second), state
        if _done(plan, nth, primitive):
            break


@pytest.mark.parametrize("phase", ["before", "after"], ids=["never-sent", "landed"])
def test_a_save_that_cannot_tell_whether_it_committed_deletes_nothing_committed(
    tmp_path: Path, phase: Phase
) -> None:
    """The replace fails and every read after it fails too: the save cannot decide, so it
    must not delete; what it leaves behind is collected by gc if it was never committed."""
    manifest = tmp_path / "repository.json"
    _seed_repository(manifest)
    before = _tree(tmp_path)
    store, backend = _faulty_store(manifest)
    repository = Repository(manifest, mode="a", store=store)
    for name, value in NEW:
        repository.log_artifact(name, value, handler="json")
    replace = Fault("replace_if_unchanged", phase, InjectedFault, match="*/repository.json")
    blind = [
        Fault(primitive, "before", InjectedFault, times=None, armed_by=replace)
        for primitive in ("read_with_token", "read_bytes", "open_read", "exists", "list")
    ]
    backend.plan = plan = FaultPlan(replace, *blind)

    assert _attempt(repository.save) is not None
    assert plan.fired[0] == replace

    _check_all_or_nothing(_all_values(manifest), NEW, committed=phase == "after")
    Repository(manifest, mode="a").gc(older_than=timedelta(0))
    _check_all_or_nothing(_all_values(manifest), NEW, committed=phase == "after")
    if phase == "before":
        assert _tree(tmp_path) == before  # gc took what the failed save left


@pytest.mark.parametrize("phase", ["before", "after"], ids=["never-sent", "landed"])
@pytest.mark.parametrize("error", [InjectedFault, KeyboardInterrupt], ids=["oserror", "ctrl-c"])
def test_another_writer_committing_after_a_failed_replace_loses_nothing(
    tmp_path: Path, phase: Phase, error: type[BaseException]
) -> None:
    """Between the failed replace and the save's re-read, another writer commits: both
    writers' versions that committed stay, with their files."""
    manifest = tmp_path / "repository.json"
    _seed_repository(manifest)

    def other_writer_commits() -> None:
        other = Repository(manifest, mode="a")
        other.log_artifact("metrics", {"auc": 0.9}, handler="json")
        other.save()

    store, backend = _faulty_store(manifest)
    repository = Repository(manifest, mode="a", store=store)
    for name, value in NEW:
        repository.log_artifact(name, value, handler="json")
    backend.plan = FaultPlan(
        Fault(
            "replace_if_unchanged",
            phase,
            error,
            match="*/repository.json",
            on_fire=other_writer_commits,
        )
    )

    raised = _attempt(repository.save)

    assert raised is not None
    values = _all_values(manifest)
    assert ("metrics", 1, {"auc": 0.9}) in values
    _check_all_or_nothing(values, NEW, committed=phase == "after")

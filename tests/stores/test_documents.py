"""The one compare-and-swap loop: refusals, lost acknowledgements, bounded rounds, errors."""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from archivist import Repository
from archivist._backends.memory import MemoryBackend
from archivist.errors import ConflictError, ManifestError, StaleTokenError, StorageError
from archivist.stores import _retry
from archivist.stores._documents import FileDocument, Tally, update


class Dict:
    """An in-memory document whose replaces can be scripted to misbehave."""

    location = "mem://doc"

    def __init__(self, value: tuple[str, ...] = ()) -> None:
        self.value = value
        self.version = 0
        self.reads = 0
        self.writes: list[tuple[str, ...]] = []
        #: scripted answers, one per replace: "ok", "refuse", "land-then-refuse" (the write
        #: lands, its answer is lost and the retried request is refused), "lost" (the write
        #: lands and the request fails without an answer), "error" (fails, nothing written)
        self.script: list[str] = []

    def token(self) -> str | None:
        return str(self.version) if self.version else None

    def read(self) -> tuple[tuple[str, ...], str | None]:
        self.reads += 1
        return self.value, self.token()

    def store(self, value: tuple[str, ...]) -> None:
        self.value = value
        self.version += 1
        self.writes.append(value)

    def replace(self, value: tuple[str, ...], token: str | None) -> str:
        answer = self.script.pop(0) if self.script else "ok"
        if token != self.token() or answer == "refuse":
            raise StaleTokenError("changed")
        if answer == "error":
            raise StorageError("connection reset before sending")
        self.store(value)
        if answer == "land-then-refuse":
            raise StaleTokenError("the retry of a landed request")
        if answer == "lost":
            raise StorageError("connection reset: no answer")
        return self.token() or ""

    def other_writer(self, item: str) -> None:
        self.store((*self.value, item))

    def exclusive(self) -> contextlib.AbstractContextManager[bool]:
        return contextlib.nullcontext(False)  # no lock: retries back off, as on object stores


SLEEPS: list[float] = []


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    SLEEPS.clear()
    monkeypatch.setattr(_retry.time, "sleep", SLEEPS.append)


def append(item: str) -> Callable[[tuple[str, ...]], tuple[str, ...]]:
    def change(value: tuple[str, ...]) -> tuple[str, ...]:
        return (*value, item)

    return change


def test_a_change_is_read_applied_and_written_once() -> None:
    doc = Dict(("a",))
    done = update(doc, append("b"), what="adding b")
    assert doc.value == ("a", "b") and doc.writes == [("a", "b")]
    assert (done.status, done.value, done.base, done.attempt) == ("written", ("a", "b"), ("a",), 0)
    assert done.token == doc.token()


def test_a_refusal_re_reads_and_applies_the_change_to_the_new_value() -> None:
    doc = Dict(("a",))
    first = doc.read()
    doc.other_writer("x")  # our copy is stale now
    tally = Tally()
    done = update(doc, append("b"), what="adding b", first=first, tally=tally)
    assert doc.value == ("a", "x", "b")  # the other writer's change is kept
    assert (done.status, done.attempt, done.base) == ("written", 1, ("a", "x"))
    assert (tally.rounds, tally.refused, tally.unanswered) == (2, 1, False)


def test_first_round_uses_the_copy_in_memory_without_reading() -> None:
    doc = Dict()
    doc.other_writer("a")
    update(doc, append("b"), what="adding b", first=((), None))  # stale
    assert doc.reads == 1  # only the re-read after the refusal
    assert doc.value == ("a", "b")
    doc.reads = 0
    update(doc, append("c"), what="adding c", first=doc.read())
    assert doc.reads == 1 and doc.value == ("a", "b", "c")  # the read we passed in


def test_a_lost_acknowledgement_is_recognised_and_not_written_twice(
    caplog: pytest.LogCaptureFixture,
) -> None:
    doc = Dict(("a",))
    doc.script = ["land-then-refuse"]
    with caplog.at_level(logging.INFO, logger="archivist"):
        done = update(doc, append("b"), what="adding b", landed=lambda v: "b" in v)
    assert doc.value == ("a", "b") and doc.writes == [("a", "b")]  # once
    assert (done.status, done.value, done.attempt) == ("landed", ("a", "b"), 1)
    assert "mem://doc: adding b: another writer committed first (attempt 1 of 64)" in caplog.text
    assert "mem://doc: adding b: an earlier attempt had landed" in caplog.text


def test_without_a_landed_check_a_lost_acknowledgement_is_applied_again() -> None:
    doc = Dict(("a",))
    doc.script = ["land-then-refuse"]
    update(doc, append("b"), what="adding b")
    assert doc.value == ("a", "b", "b")  # why callers pass landed=


def test_landed_is_asked_only_after_a_refusal() -> None:
    doc = Dict(("a", "b"))
    done = update(doc, append("b"), what="adding b", landed=lambda v: "b" in v)
    assert done.status == "written" and doc.value == ("a", "b", "b")


def test_a_change_returning_none_writes_nothing() -> None:
    doc = Dict(("a",))
    done = update(doc, lambda value: None, what="nothing")
    assert doc.writes == [] and (done.status, done.value, done.token) == ("unchanged", ("a",), None)


def test_a_change_that_raises_writes_nothing_and_reaches_the_caller() -> None:
    doc = Dict(("a",))
    calls: list[tuple[str, ...]] = []

    def refuse(value: tuple[str, ...]) -> tuple[str, ...]:
        calls.append(value)
        raise ManifestError("bad input")

    tally = Tally()
    with pytest.raises(ManifestError, match="bad input"):
        update(doc, refuse, what="refusing", tally=tally)
    assert doc.writes == [] and calls == [("a",)] and not tally.unanswered


def test_a_change_raising_in_a_later_round_writes_nothing() -> None:
    doc = Dict(("a",))
    doc.script = ["refuse"]
    rounds: list[tuple[str, ...]] = []

    def change(value: tuple[str, ...]) -> tuple[str, ...]:
        rounds.append(value)
        if len(rounds) == 2:
            raise ValueError("no longer applies")
        return (*value, "b")

    with pytest.raises(ValueError, match="no longer applies"):
        update(doc, change, what="adding b")
    assert doc.writes == [] and doc.value == ("a",)


def test_rounds_are_bounded_and_the_error_names_the_document() -> None:
    doc = Dict(("a",))
    doc.script = ["refuse"] * 10
    tally = Tally()
    with pytest.raises(ConflictError, match=r"gave up adding b after 3 attempts") as caught:
        update(doc, append("b"), what="adding b", attempts=3, tally=tally)
    assert not isinstance(caught.value, StaleTokenError)
    assert "mem://doc" in str(caught.value)
    assert doc.writes == [] and (tally.rounds, tally.refused) == (3, 3)
    assert len(doc.script) == 7  # exactly three requests were sent


@pytest.mark.parametrize("answer", ["lost", "error"])
def test_a_replace_failing_without_an_answer_is_raised_at_once_and_tallied(answer: str) -> None:
    doc = Dict(("a",))
    doc.script = [answer]
    tally = Tally()
    with pytest.raises(StorageError):
        update(doc, append("b"), what="adding b", tally=tally)
    assert tally.unanswered and tally.rounds == 1  # never retried: it may still land
    assert doc.reads == 1


def test_an_interrupt_while_replacing_is_tallied_as_unanswered() -> None:
    class Interrupted(Dict):
        def replace(self, value: tuple[str, ...], token: str | None) -> str:
            raise KeyboardInterrupt

    tally = Tally()
    with pytest.raises(KeyboardInterrupt):
        update(Interrupted(), append("b"), what="adding b", tally=tally)
    assert tally.unanswered


def test_a_refusal_then_success_leaves_unanswered_false() -> None:
    doc = Dict(("a",))
    doc.script = ["refuse"]
    tally = Tally()
    update(doc, append("b"), what="adding b", tally=tally)
    assert (tally.refused, tally.unanswered) == (1, False)


def test_a_file_document_reads_absent_as_empty_and_creates_only_if_absent() -> None:
    backend = MemoryBackend()
    path = f"/documents-test-{secrets.token_hex(4)}/list.json"
    doc = FileDocument(
        backend,
        path,
        f"memory://{path}",
        parse=lambda data: data.decode().split(),
        serialize=lambda value: " ".join(value).encode(),
        empty=list,
    )
    assert doc.read() == ([], None)
    backend.write_if_absent(path, b"x")
    with pytest.raises(StaleTokenError):
        doc.replace(["a"], None)  # created meanwhile: refused
    done = update(doc, lambda value: [*value, "b"], what="adding b")
    assert doc.read() == (["x", "b"], done.token)
    backend.delete(path)


class Locked(Dict):
    """A document with a writer lock, as on local disk; it records when the lock is held."""

    def __init__(self) -> None:
        super().__init__()
        self.held = False
        self.held_at_replace: list[bool] = []

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[bool]:
        self.held = True
        try:
            yield True
        finally:
            self.held = False

    def replace(self, value: tuple[str, ...], token: str | None) -> str:
        self.held_at_replace.append(self.held)
        return super().replace(value, token)


def test_a_locked_document_is_updated_under_its_lock_and_retried_without_backoff() -> None:
    document = Locked()
    stale = document.read()
    document.other_writer("theirs")
    done = update(document, append("ours"), what="t", first=stale)
    assert (done.status, done.attempt) == ("written", 1)
    assert document.value == ("theirs", "ours")
    assert document.held_at_replace == [True, True] and not document.held
    assert SLEEPS == []  # the lock serializes writers: nothing to back off from


def test_an_unlocked_document_backs_off_before_a_retry() -> None:
    document = Dict()
    stale = document.read()
    document.other_writer("theirs")
    update(document, append("ours"), what="t", first=stale)
    assert len(SLEEPS) == 1


def test_concurrent_local_saves_lose_at_most_one_round_each(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = tmp_path / "repository.json"
    Repository(url, mode="w").save()
    writers, saves = 6, 5
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(saves):
                repository = Repository(url, mode="a")
                repository.log_artifact(f"w{n}", i, handler="json")
                repository.save()
        except BaseException as exc:  # reported below
            errors.append(exc)

    caplog.set_level(logging.INFO, logger="archivist.stores")
    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    refused = [r for r in caplog.records if "another writer committed first" in r.getMessage()]
    # Each save may find its copy of the manifest stale once; the retry, under the lock,
    # is never refused: no writer loses round after round.
    assert len(refused) <= writers * saves
    assert all("attempt 1 of" in r.getMessage() for r in refused)
    final = Repository(url, mode="r")
    assert all(final.versions(f"w{n}") == list(range(saves)) for n in range(writers))

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import pytest
from fsspec.callbacks import Callback

from archivist import Repository
from archivist._io.progress import (
    InvalidProgressError,
    RichCallback,
    TransferReport,
    make_callback,
    metered,
)


class Recorder(Callback):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_save_reports_every_byte_written(repo_path: Path) -> None:
    repository = Repository(repo_path, mode="w")
    repository.log_artifact(name="text", value=list(range(1000)), handler="json")
    repository.log_artifact(name="blob", value=b"x" * 100_000, handler="pickle")
    recorder = Recorder()
    repository.save(progress=recorder)
    total = sum(r["size"] for r in Repository(repo_path, mode="r"))
    assert recorder.value == total and recorder.closed


@pytest.mark.parametrize(
    ("name", "value", "handler"), [("t", [1, 2, 3], "json"), ("b", b"z" * 5000, "pickle")]
)
def test_load_reports_the_size_and_the_bytes_read(
    repo_path: Path, name: str, value: object, handler: str
) -> None:
    repository = Repository(repo_path, mode="w")
    repository.log_artifact(name=name, value=value, handler=handler)
    repository.save()
    recorder = Recorder()
    assert repository.load_artifact(name, progress=recorder) == value
    size = repository.get_artifact_metadata(name)["size"]
    assert recorder.size == size and recorder.value == size and recorder.closed


def test_progress_true_and_false(repo_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repository = Repository(repo_path, mode="w")
    repository.log_artifact(name="a", value=[1], handler="json")
    repository.save(progress=True)  # small: no bar, and no error
    assert repository.load_artifact("a", progress=False) == [1]
    assert make_callback(None, "x") is None and make_callback(False, "x") is None
    # off a terminal no bar can be drawn: nothing reports (and a save spools nothing)
    assert make_callback(True, "x") is None
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert isinstance(make_callback(True, "x"), RichCallback)


def test_the_rate_is_the_transfers_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bytes over the time since the transfer began, not since the callback was made."""
    now = [100.0]
    monkeypatch.setattr("archivist._io.progress.time.monotonic", lambda: now[0])
    callback = RichCallback("saving", threshold=1, force=True)
    now[0] = 160.0  # a minute of serializing before the first byte is stored
    callback.set_size(3000)
    assert callback.rate is None
    now[0] = 161.0
    callback.relative_update(1000)
    now[0] = 162.0
    callback.relative_update(1000)
    assert callback.rate == 1000.0
    assert callback.describe_rate() == "1.0 kB/s 0:00:01"
    callback.close()
    unknown = RichCallback("loading", threshold=1, force=True)
    now[0] = 170.0
    unknown.relative_update(500)  # no size: the transfer begins with its first bytes
    now[0] = 172.0
    unknown.relative_update(500)
    assert unknown.rate == 500.0 and unknown.describe_rate() == "500 bytes/s"
    unknown.close()


def test_a_bad_progress_value_is_refused_before_writing(repo_path: Path) -> None:
    repository = Repository(repo_path, mode="w")
    repository.log_artifact(name="a", value=[1], handler="json")
    with pytest.raises(InvalidProgressError, match="fsspec Callback"):
        repository.save(progress="yes")
    assert not repo_path.exists()
    with pytest.raises(TypeError):
        make_callback(3, "x")


def test_the_bar_appears_only_past_the_threshold(capsys: pytest.CaptureFixture[str]) -> None:
    callback = RichCallback("big", threshold=100, force=True)
    callback.relative_update(50)
    assert not callback.shown
    callback.relative_update(60)
    assert callback.shown
    callback.close()
    known = RichCallback("known", threshold=100, force=True)
    known.set_size(1000)
    assert known.shown
    known.close()
    off_terminal = RichCallback("pipe", threshold=1)  # stderr is captured: not a terminal
    off_terminal.relative_update(10)
    assert not off_terminal.shown


def test_metered_streams_pass_bytes_through() -> None:
    recorder = Recorder()
    raw = io.BytesIO()
    stream = metered(raw, recorder)
    stream.write(b"abc")
    stream.write(memoryview(b"defg"))
    assert raw.getvalue() == b"abcdefg" and recorder.value == 7
    raw.seek(0)
    reader = metered(raw, recorder)
    buffer = bytearray(4)
    assert reader.readinto(buffer) == 4 and bytes(buffer) == b"abcd"
    assert reader.read() == b"efg" and recorder.value == 14
    assert reader.seekable() and reader.tell() == 7
    reader.close()
    assert not raw.closed
    assert metered(raw, None) is raw


def test_a_file_tried_again_reports_only_bytes_beyond_its_first_try() -> None:
    seen = Callback()
    report = TransferReport(seen)
    report.announce(12)
    one = report.file()
    first = one.attempt()
    first.relative_update(5)
    first.relative_update(5)  # then the store refused the name: tried again
    second = one.attempt()
    for step in (3, 4, 5):
        second.relative_update(step)
    assert seen.size == 12 and seen.value == 12


def test_a_backend_and_a_store_written_before_callbacks_still_report(tmp_path: Path) -> None:
    """Implementations opt in to ``callback``: older ones get the bytes handed to them."""
    from archivist import ManifestStore
    from archivist._backends import LocalBackend
    from archivist.testing.backends import RecordingCallback

    class OldBackend(LocalBackend):
        def open_new(self, path: str) -> Any:  # type: ignore[override]
            return super().open_new(path)

    class OldStore(ManifestStore):
        def write_file(self, name: str, fname: str, write: Any) -> Any:  # type: ignore[override]
            return super().write_file(name, fname, write)

    for kind, store in (
        ("backend", ManifestStore(tmp_path / "a" / "repository.json", backend=OldBackend())),
        ("store", OldStore(tmp_path / "b" / "repository.json")),
    ):
        repository = Repository(store.location, mode="w", store=store)
        repository.log_artifact(name="blob", value=b"x" * (3 << 20), handler="pickle")
        repository.log_artifact(name="rows", value=list(range(1000)), handler="json")
        recording = RecordingCallback()
        repository.save(progress=recording)
        total = sum(record["size"] for record in repository)
        assert recording.events[0] == ("size", total), kind
        assert recording.value == total, kind

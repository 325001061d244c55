"""ChunkedUpload cuts a stream into parts: one request when small, parts when large."""

from __future__ import annotations

import pytest

from archivist._backends._chunked import ChunkedUpload


class Recorded(ChunkedUpload):
    """Records the calls an object store would receive."""

    def __init__(self, part_size: int, fail_finish: bool = False) -> None:
        super().__init__(part_size)
        self.calls: list[tuple[str, bytes]] = []
        self.fail_finish = fail_finish

    def put_whole(self, data: bytes) -> None:
        self.calls.append(("whole", data))

    def begin(self) -> None:
        self.calls.append(("begin", b""))

    def put_part(self, data: bytes) -> None:
        self.calls.append(("part", data))

    def finish(self, data: bytes) -> None:
        if self.fail_finish:
            raise FileExistsError("refused: an object exists")
        self.calls.append(("finish", data))

    def abort_upload(self) -> None:
        self.calls.append(("abort", b""))


def test_a_stream_that_never_fills_a_part_is_one_request() -> None:
    upload = Recorded(part_size=4)
    assert upload.write(b"ab") == 2
    upload.write(bytearray(b"cd"))  # exactly one part: still kept back, never an empty last part
    upload.commit()
    assert upload.calls == [("whole", b"abcd")]
    assert upload.tell() == upload.size == 4


def test_a_long_stream_goes_in_full_parts_and_a_nonempty_last_one() -> None:
    upload = Recorded(part_size=4)
    upload.write(memoryview(b"0123456789"))
    upload.write(b"AB")
    upload.commit()
    assert upload.calls == [
        ("begin", b""),
        ("part", b"0123"),
        ("part", b"4567"),
        ("finish", b"89AB"),
    ]
    upload.commit()  # a second commit sends nothing
    assert len(upload.calls) == 4


def test_a_multibyte_view_is_counted_in_bytes() -> None:
    import array

    upload = Recorded(part_size=64)
    assert upload.write(array.array("i", [1, 2, 3])) == 12
    assert upload.size == 12


def test_a_refused_finish_aborts_the_upload_and_raises() -> None:
    upload = Recorded(part_size=2, fail_finish=True)
    upload.write(b"12345")
    with pytest.raises(FileExistsError):
        upload.commit()
    assert upload.calls[-1] == ("abort", b"")


def test_abort_discards_the_parts_once_and_only_when_started() -> None:
    small = Recorded(part_size=8)
    small.write(b"abc")
    small.abort()
    assert small.calls == []  # nothing was sent: nothing to discard
    large = Recorded(part_size=2)
    large.write(b"abcde")
    large.abort()
    large.abort()
    assert [call for call, _ in large.calls] == ["begin", "part", "part", "abort"]
    with pytest.raises(ValueError, match="finished"):
        large.write(b"more")
    large.commit()  # after an abort, commit lands nothing
    assert [call for call, _ in large.calls][-1] == "abort"


def test_a_part_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        Recorded(part_size=0)
    assert Recorded(part_size=1).writable()

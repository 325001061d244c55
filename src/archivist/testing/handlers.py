"""The handler conformance suite: the contract every :class:`~archivist.Handler` keeps.

Subclass :class:`HandlerConformanceTests` in a test module, name the handler class and give
sample values; pytest then runs the whole contract against a real
:class:`~archivist.Repository` on local disk and on ``memory://``.
"""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, ClassVar, cast

import pytest

from archivist.errors import (
    ArchivistWarning,
    EnvironmentMismatchError,
    SerializationError,
)
from archivist.handlers.base import Handler
from archivist.manifest import CORE_FIELDS, VersionRecord, utcnow
from archivist.plugin.manager import get_handler
from archivist.repository import Repository
from archivist.testing.fixtures import memory_repository_url, registered

__all__ = ["HandlerConformanceTests", "LegacyVersion"]

#: Record fields a handler's metadata may not use: the manifest's own.
RESERVED_FIELDS = frozenset((*CORE_FIELDS, "source"))

_UNKNOWN_OPTION: dict[str, Any] = {"archivist_conformance_unknown_option": 1}


@dataclass(frozen=True)
class LegacyVersion:
    """A file written by another version of a handler, with the record it came with.

    Attributes
    ----------
    content : bytes
        The stored file, byte for byte (read it from a fixture file, or build it the way the
        older version did).
    expected : Any
        What loading it must give.
    fields : Mapping[str, Any]
        The handler metadata the older version recorded (``{}`` for none, as lazyscribe
        handlers without metadata wrote).
    mismatch : bool
        Whether the running environment must flag it: refuse with ``validate=True``, warn
        with ``validate=False``.
    """

    content: bytes
    expected: Any
    fields: Mapping[str, Any] = field(default_factory=dict)
    mismatch: bool = False


class _WriteOnlyBytes(io.BufferedIOBase):
    """A write-only, non-seekable byte stream: what a handler's ``write`` is given."""

    def __init__(self) -> None:
        super().__init__()
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if isinstance(data, str):
            raise TypeError("a bytes-like object is required, not 'str'")
        view = memoryview(data).cast("B")
        self.data += view
        return len(view)

    def tell(self) -> int:
        return len(self.data)


def _writer_of(content: bytes) -> Callable[[IO[bytes]], None]:
    def write(stream: IO[bytes]) -> None:
        stream.write(content)

    return write


def _json_round_trip(value: Any) -> Any:
    return json.loads(json.dumps(value))


def _silently(call: Any) -> Any:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    flagged = [w for w in caught if issubclass(w.category, ArchivistWarning)]
    if flagged:
        raise AssertionError(f"expected no ArchivistWarning, got: {flagged[0].message}")
    return result


class HandlerConformanceTests:
    """Contract tests for a handler; subclass it in a test module named ``Test...``.

    Set :attr:`handler_class` and :attr:`sample_values`; the other attributes are optional.
    The handler is registered for each test if no installed plugin provides it yet, so an
    in-house handler needs no packaging to be tested. Repositories live on local disk and
    in ``memory://``; override the ``conformance_url`` fixture to add another store.

    Attributes
    ----------
    handler_class : type[archivist.Handler]
        The handler under test.
    sample_values : Sequence[Any]
        Values it must store and load back equal (see :meth:`assert_equal`).
    writer_kwargs : Mapping[str, Any]
        Valid writer options for every sample that change the stored bytes (for example
        ``{"indent": 4}``). Empty skips the test that options reach the writer.
    reader_kwargs : Mapping[str, Any]
        Valid reader options for every sample that still load the value back equal.
    unsupported_values : Sequence[Any]
        Values the handler cannot store: saving one must fail with
        :class:`~archivist.errors.SerializationError`.
    rejects_unknown_options : bool
        Whether an unknown writer or reader option is an error (the default, so a typo in
        an option is not silently ignored).
    other_environment : Mapping[str, Any] or None
        Record fields that another environment wrote and that reading here must flag.
        ``None`` derives them by changing every value of :meth:`Handler.environment`.
    compatible_environment : Mapping[str, Any]
        Record fields from another environment that must load silently (for example an
        older library version whose files stay readable).

    Examples
    --------
    >>> from archivist.handlers import JSONHandler
    >>> class TestJSON(HandlerConformanceTests):
    ...     handler_class = JSONHandler
    ...     sample_values = ([0, 1, 2], {"a": [1.5, None]}, "text")
    ...     writer_kwargs = {"indent": 4}
    """

    handler_class: ClassVar[type[Handler]]
    sample_values: ClassVar[Sequence[Any]]
    writer_kwargs: ClassVar[Mapping[str, Any]] = {}
    reader_kwargs: ClassVar[Mapping[str, Any]] = {}
    unsupported_values: ClassVar[Sequence[Any]] = ()
    rejects_unknown_options: ClassVar[bool] = True
    other_environment: ClassVar[Mapping[str, Any] | None] = None
    compatible_environment: ClassVar[Mapping[str, Any]] = {}

    # -- hooks for subclasses -----------------------------------------------------------------

    def assert_equal(self, loaded: Any, expected: Any) -> None:
        """Fail unless ``loaded`` equals ``expected``; override for arrays and frames.

        Parameters
        ----------
        loaded : Any
            The value read back.
        expected : Any
            The sample value.
        """
        if type(loaded) is not type(expected) or loaded != expected:
            raise AssertionError(f"loaded {loaded!r:.200} != stored {expected!r:.200}")

    def legacy_versions(self) -> Sequence[LegacyVersion]:
        """Return files other versions of the handler wrote, to check they still load.

        Returns
        -------
        Sequence[LegacyVersion]
            None by default.
        """
        return ()

    # -- fixtures -------------------------------------------------------------------------------

    @pytest.fixture(autouse=True)
    def _conformance_handler_registered(self) -> Iterator[None]:
        with registered(self.handler_class):
            yield

    @pytest.fixture(params=["local", "memory"])
    def conformance_url(self, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
        """Yield a fresh manifest location on local disk or in ``memory://``."""
        if request.param == "local":
            yield str(tmp_path / "repository.json")
            return
        with memory_repository_url() as url:
            yield url

    # -- helpers --------------------------------------------------------------------------------

    @property
    def _alias(self) -> str:
        return self.handler_class.alias

    def _save(self, url: str, values: Sequence[Any], **writer_kwargs: Any) -> list[str]:
        repository = Repository(url, mode="w+")
        names = [f"sample-{i}" for i in range(len(values))]
        for name, value in zip(names, values, strict=True):
            repository.log_artifact(name, value, handler=self._alias, **writer_kwargs)
        repository.save()
        return names

    def _encode(self, value: Any, **writer_kwargs: Any) -> bytes:
        handler = self.handler_class()
        raw = _WriteOnlyBytes()
        if handler.binary:
            handler.write(value, cast("IO[bytes]", raw), **writer_kwargs)
        else:
            text = io.TextIOWrapper(cast("IO[bytes]", raw), encoding="utf-8", write_through=True)
            handler.write(value, text, **writer_kwargs)
            text.flush()
            text.detach()
        if raw.closed:
            raise AssertionError(f"{self.handler_class.__qualname__}.write closed its stream")
        return bytes(raw.data)

    def _decode(self, data: bytes, **reader_kwargs: Any) -> Any:
        handler = self.handler_class()
        raw = io.BytesIO(data)
        if handler.binary:
            return handler.read(raw, **reader_kwargs)
        text = io.TextIOWrapper(raw, encoding="utf-8")
        try:
            return handler.read(text, **reader_kwargs)
        finally:
            text.detach()

    @staticmethod
    def _rewrite_record(url: str, name: str, fields: Mapping[str, Any]) -> None:
        store = Repository(url, mode="r").store
        snapshot = store.read()
        records = [
            record.replace(extra={**record.extra, **fields}) if record.name == name else record
            for record in snapshot.records
        ]
        store.commit(records, snapshot.token)

    def _other_environment(self) -> dict[str, Any]:
        if self.other_environment is not None:
            return dict(self.other_environment)
        return {
            key: f"{value}+other" if isinstance(value, str) else f"other than {value!r}"
            for key, value in self.handler_class().environment().items()
        }

    # -- the contract ---------------------------------------------------------------------------

    def test_declares_alias_suffix_and_binary(self) -> None:
        """The class names itself, is instantiable without arguments and is what the alias finds."""
        cls = self.handler_class
        assert isinstance(cls.alias, str), "alias must be a str"
        assert cls.alias, "alias must not be empty"
        assert isinstance(cls.suffix, str), "suffix must be a str"
        assert not cls.suffix.startswith("."), "suffix is given without its leading dot"
        assert isinstance(cls.binary, bool), "binary must be a bool"
        assert isinstance(cls(), Handler)
        assert get_handler(cls.alias) is cls, f"the alias {cls.alias!r} finds another class"

    def test_has_sample_values(self) -> None:
        """A conformance run needs at least one sample value."""
        assert len(self.sample_values) > 0, "set sample_values to at least one value"

    @pytest.mark.parametrize("options", ["defaults", "options"])
    def test_round_trip_through_repository(self, conformance_url: str, options: str) -> None:
        """Every sample is saved, reopened read-only and loaded back equal, with its metadata."""
        writer = dict(self.writer_kwargs) if options == "options" else {}
        reader = dict(self.reader_kwargs) if options == "options" else {}
        names = self._save(conformance_url, self.sample_values, **writer)
        repository = Repository(conformance_url, mode="r")
        handler = self.handler_class()
        for name, value in zip(names, self.sample_values, strict=True):
            loaded = _silently(lambda name=name: repository.load_artifact(name, **reader))
            self.assert_equal(loaded, value)
            record = repository.get_artifact_metadata(name)
            assert record["handler"] == self._alias
            assert record["fname"].endswith(f".{handler.suffix}") or not handler.suffix
            for key, expected in _json_round_trip(handler.metadata(value)).items():
                assert record.get(key) == expected, f"metadata {key!r} was not recorded"
            assert handler.mismatches(record) == [], "a fresh record must not mismatch"

    def test_text_handlers_store_utf8(self, conformance_url: str) -> None:
        """A text handler's files are UTF-8 text, a binary handler's are whatever it writes."""
        names = self._save(conformance_url, self.sample_values)
        repository = Repository(conformance_url, mode="r")
        for name in names:
            record = repository.get_artifact_metadata(name)
            with repository.store.open_file(
                name, record["fname"], record["sha256"], record["size"]
            ) as stream:
                data = stream.read()
            assert len(data) == record["size"]
            if not self.handler_class.binary:
                data.decode("utf-8")  # raises UnicodeDecodeError if the handler broke it

    def test_write_and_read_use_the_declared_stream_kind(self) -> None:
        """``write`` gets a write-only, non-seekable stream of the declared kind and leaves it open.

        A binary handler given ``str`` or a text handler given ``bytes`` fails here, as it
        would in a repository.
        """
        for value in self.sample_values:
            data = self._encode(value)
            self.assert_equal(self._decode(data), value)

    def test_writer_options_reach_the_writer(self) -> None:
        """The writer options change what is written: they are not dropped on the way."""
        if not self.writer_kwargs:
            pytest.skip("no writer_kwargs given for this handler")
        value = self.sample_values[0]
        plain = self._encode(value)
        with_options = self._encode(value, **self.writer_kwargs)
        assert plain != with_options, f"writer options {dict(self.writer_kwargs)} had no effect"
        self.assert_equal(self._decode(with_options, **self.reader_kwargs), value)

    def test_unknown_writer_option_is_an_error(self, tmp_path: Path) -> None:
        """A misspelt writer option fails the save with SerializationError; nothing is committed."""
        if not self.rejects_unknown_options:
            pytest.skip("this handler accepts any option")
        url = str(tmp_path / "repository.json")
        repository = Repository(url, mode="w+")
        repository.log_artifact(
            "sample", self.sample_values[0], handler=self._alias, **_UNKNOWN_OPTION
        )
        with pytest.raises(SerializationError):
            repository.save()
        assert "sample" not in Repository(url, mode="w+")
        assert not list((tmp_path / "sample").glob("*")), "the failed save left a file behind"

    def test_unknown_reader_option_is_an_error(self, tmp_path: Path) -> None:
        """A misspelt reader option fails the load with SerializationError."""
        if not self.rejects_unknown_options:
            pytest.skip("this handler accepts any option")
        url = str(tmp_path / "repository.json")
        self._save(url, self.sample_values[:1])
        with pytest.raises(SerializationError):
            Repository(url, mode="r").load_artifact("sample-0", **_UNKNOWN_OPTION)

    def test_unsupported_values_raise_serialization_error(self, tmp_path: Path) -> None:
        """A value the handler cannot store fails with archivist's error, not a raw traceback."""
        if not self.unsupported_values:
            pytest.skip("no unsupported_values given for this handler")
        for value in self.unsupported_values:
            repository = Repository(tmp_path / "repository.json", mode="w+")
            repository.log_artifact("bad", value, handler=self._alias)
            with pytest.raises(SerializationError):
                repository.save()

    def test_metadata_and_environment_are_json(self) -> None:
        """Metadata is plain JSON (no tuples, no numpy scalars) and keeps off the record's fields.

        It includes every environment key, so :meth:`Handler.mismatches` can compare them.
        """
        handler = self.handler_class()
        environment = handler.environment()
        assert _json_round_trip(environment) == environment, "environment() is not plain JSON"
        for value in self.sample_values:
            metadata = handler.metadata(value)
            assert isinstance(metadata, dict)
            assert _json_round_trip(metadata) == metadata, "metadata() is not plain JSON"
            clash = RESERVED_FIELDS & set(metadata)
            assert not clash, f"metadata() overwrites record fields {sorted(clash)}"
            missing = set(environment) - set(metadata)
            assert not missing, f"metadata() leaves out environment keys {sorted(missing)}"

    def test_other_environment_is_refused_or_warned(self, conformance_url: str) -> None:
        """A version another environment wrote is refused with validate=True, warned otherwise.

        A handler with no environment loads it silently whatever the record claims.
        """
        value = self.sample_values[0]
        (name,) = self._save(conformance_url, [value])
        other = self._other_environment()
        repository_fields = other or {"archivist_conformance_field": "written elsewhere"}
        self._rewrite_record(conformance_url, name, repository_fields)
        repository = Repository(conformance_url, mode="r")
        if not other:
            self.assert_equal(_silently(lambda: repository.load_artifact(name)), value)
            return
        with pytest.raises(EnvironmentMismatchError):
            repository.load_artifact(name, validate=True)
        with pytest.warns(ArchivistWarning):
            loaded = repository.load_artifact(name, validate=False)
        self.assert_equal(loaded, value)

    def test_compatible_environment_loads_silently(self, conformance_url: str) -> None:
        """A version from an environment the handler declares compatible loads without a word."""
        if not self.compatible_environment:
            pytest.skip("no compatible_environment given for this handler")
        value = self.sample_values[0]
        (name,) = self._save(conformance_url, [value])
        self._rewrite_record(conformance_url, name, self.compatible_environment)
        repository = Repository(conformance_url, mode="r")
        self.assert_equal(_silently(lambda: repository.load_artifact(name)), value)

    def test_reads_what_other_versions_wrote(self, conformance_url: str) -> None:
        """Files from :meth:`legacy_versions` load, and are flagged when they should be."""
        legacy = self.legacy_versions()
        if not legacy:
            pytest.skip("no legacy_versions given for this handler")
        repository = Repository(conformance_url, mode="w+")
        repository.save()
        store = repository.store
        records = []
        for i, version in enumerate(legacy):
            name, fname = f"legacy-{i}", f"legacy-{i}.{self.handler_class.suffix}"
            written = store.write_file(name, fname, _writer_of(version.content))
            sha256, size = written.sha256, written.size
            records.append(
                VersionRecord(
                    name=name,
                    version=0,
                    handler=self._alias,
                    fname=fname,
                    created_at=utcnow(),
                    sha256=sha256,
                    size=size,
                    extra=dict(version.fields),
                )
            )
        store.commit(records, store.read().token)
        reopened = Repository(conformance_url, mode="r")
        for record, version in zip(records, legacy, strict=True):
            if version.mismatch:
                with pytest.raises(EnvironmentMismatchError):
                    reopened.load_artifact(record.name, validate=True)
                with pytest.warns(ArchivistWarning):
                    loaded = reopened.load_artifact(record.name, validate=False)
            else:
                loaded = _silently(lambda r=record: reopened.load_artifact(r.name))
            self.assert_equal(loaded, version.expected)

"""lazyscribe's artifact handler base class, :class:`Artifact`, for handlers written its way.

A lazyscribe-style handler is an attrs class with the class variables ``alias``, ``suffix``,
``binary`` and ``output_only`` and the classmethods ``construct``, ``read`` and ``write``
(lazyscribe's "Write a custom artifact handler" guide). Subclass :class:`Artifact` in your
own code and archivist finds it by its alias, as lazyscribe does (subclass scanning); the
items of :attr:`archivist.Repository.artifacts` are instances of these classes too.

New handlers are best written as :class:`archivist.Handler` subclasses.
"""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from datetime import datetime
from io import BytesIO, StringIO
from typing import TYPE_CHECKING, Any, ClassVar

from attrs import asdict, define, field

from archivist._io.handlers import new_fname

if TYPE_CHECKING:
    from archivist.manifest import VersionRecord

__all__ = ["Artifact", "base_fields", "default_fname"]


def default_fname(name: str, created_at: datetime, suffix: str) -> str:
    """Return a file name for a version: slug of the name, the time and a random part.

    Parameters
    ----------
    name : str
        The artifact name.
    created_at : datetime.datetime
        When the version was created.
    suffix : str
        The handler's suffix (no dot); empty for none.

    Returns
    -------
    str
        For example ``"features-20260131120000-1a2b3c4d.json"``.
    """
    return new_fname(name, created_at, suffix)


def base_fields(
    cls: type[Artifact],
    name: str,
    value: Any,
    fname: str | None,
    created_at: datetime | None,
    expiry: datetime | None,
    writer_kwargs: dict[str, Any] | None,
    version: int,
    dirty: bool,
) -> dict[str, Any]:
    """Return the keyword arguments of the fields every artifact has, with their defaults.

    For ``construct`` methods: ``created_at`` defaults to now (naive UTC), ``fname`` to
    :func:`default_fname`, ``writer_kwargs`` to ``{}``.

    Parameters
    ----------
    cls : type[Artifact]
        The class being constructed (its ``suffix`` names the file).
    name, value, fname, created_at, expiry, writer_kwargs, version, dirty
        As :meth:`Artifact.construct` takes them.

    Returns
    -------
    dict[str, Any]
        Keyword arguments for ``cls(...)``.
    """
    from archivist.manifest import utcnow

    created_at = created_at or utcnow()
    return {
        "name": name,
        "value": value,
        "fname": fname or default_fname(name, created_at, cls.suffix),
        "created_at": created_at,
        "expiry": expiry,
        "writer_kwargs": writer_kwargs or {},
        "version": version,
        "dirty": dirty,
    }


@define
class Artifact(metaclass=ABCMeta):
    """Base of lazyscribe-style artifact handlers (``lazyscribe.artifacts.base.Artifact``).

    Instances describe one version of an artifact; the class serializes values.

    Attributes
    ----------
    alias : str
        The name given as ``handler=`` (a class variable).
    suffix : str
        The file extension, without the dot (a class variable).
    binary : bool
        Whether ``read`` and ``write`` take byte streams (a class variable).
    output_only : bool
        Whether the file cannot be read back as the original object (a class variable):
        logging, saving and loading such an artifact warn, as in lazyscribe.
    name : str
        The artifact name.
    fname : str
        The file name, relative to the artifact's folder.
    value : Any
        The logged object while it is not saved; ``None`` for saved versions.
    writer_kwargs : dict
        The writer options given when it was logged.
    created_at : datetime.datetime
        When the version was created (naive UTC).
    expiry : datetime.datetime or None
        When the version expires (naive UTC).
    version : int
        The version number.
    dirty : bool
        ``True`` while the version is not saved.
    record : archivist.VersionRecord or None
        The manifest record, for versions of a repository (keyword-only, not compared).
    """

    alias: ClassVar[str]
    suffix: ClassVar[str]
    binary: ClassVar[bool]
    output_only: ClassVar[bool]
    name: str = field(eq=False)
    fname: str = field(eq=False)
    value: Any = field(eq=False)
    writer_kwargs: dict[str, Any] = field(eq=False)
    created_at: datetime = field(eq=False)
    expiry: datetime | None = field(eq=False)
    version: int = field(eq=False)
    dirty: bool = field(eq=False)
    record: VersionRecord | None = field(default=None, eq=False, kw_only=True, repr=False)

    @classmethod
    @abstractmethod
    def construct(
        cls,
        name: str,
        value: Any = None,
        fname: str | None = None,
        created_at: datetime | None = None,
        expiry: datetime | None = None,
        writer_kwargs: dict[str, Any] | None = None,
        version: int = 0,
        dirty: bool = True,
        **kwargs: Any,
    ) -> Artifact:
        """Build an instance, recording facts about the running environment.

        Parameters
        ----------
        name : str
            The artifact name.
        value : Any, optional
            The value (``None`` for stored versions).
        fname : str, optional
            The file name; derived from the name and time when not given.
        created_at : datetime.datetime, optional
            Creation time (default now, naive UTC).
        expiry : datetime.datetime, optional
            Expiry time.
        writer_kwargs : dict, optional
            Writer options.
        version : int, optional
            The version number.
        dirty : bool, optional
            Whether the version still has to be saved.
        **kwargs
            Recorded fields (for example ``python_version``).

        Returns
        -------
        Artifact
            The instance.
        """

    @classmethod
    @abstractmethod
    def read(cls, buf: Any, **kwargs: Any) -> Any:
        """Read a value from a readable stream (bytes when ``binary``, else text).

        Parameters
        ----------
        buf : file-like object
            The stream.
        **kwargs
            Reader options.

        Returns
        -------
        Any
            The value.
        """

    @classmethod
    @abstractmethod
    def write(cls, obj: Any, buf: Any, **kwargs: Any) -> None:
        """Write a value to a writable stream (bytes when ``binary``, else text).

        Parameters
        ----------
        obj : Any
            The value.
        buf : file-like object
            The stream.
        **kwargs
            Writer options.
        """

    def __getstate__(self) -> dict[str, Any]:
        """Return the state for pickling, the value serialized by the handler itself."""
        state = asdict(self, recurse=False)
        if (obj := state.get("value")) is not None:
            buf: BytesIO | StringIO = BytesIO() if self.binary else StringIO()
            with buf:
                self.write(obj, buf, **self.writer_kwargs)
                state["value"] = buf.getvalue()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Restore the state written by :meth:`__getstate__`."""
        for key, value in state.items():
            if key == "value" and value is not None:
                buf: BytesIO | StringIO = BytesIO(value) if self.binary else StringIO(value)
                object.__setattr__(self, "value", self.read(buf))
            else:
                object.__setattr__(self, key, value)

"""Resolving a path or URL into a backend, and storage failures with context."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fsspec.core import split_protocol

from archivist._backends.base import Backend
from archivist.errors import (
    ArchivistError,
    StorageError,
    StorageWriteError,
)
from archivist.plugin.manager import get_backend
from archivist.stores._options import merge_storage_options

__all__ = ["open_backend", "open_location", "storage_errors"]

#: The first words of the actions of :func:`storage_errors` that change stored data.
_WRITING = ("writing", "flushing", "deleting", "removing")


@contextmanager
def storage_errors(action: str) -> Iterator[None]:
    """Re-raise storage failures as :class:`~archivist.errors.StorageError` with context.

    An ``action`` that changes data (it starts with ``writing``, ``flushing``, ``deleting``
    or ``removing``) fails with a :class:`~archivist.errors.StorageWriteError`, also a
    :class:`~archivist.errors.WriteError` (lazyscribe raised ``SaveError`` when a save could
    not write), and so does a backend's own bare ``StorageError`` raised in it (a subclass,
    which says more, passes unchanged). archivist's other errors and
    ``FileNotFoundError``/``FileExistsError`` (part of the backend contract) pass through
    unchanged.

    Parameters
    ----------
    action : str
        What was being done, for example ``"reading s3://bucket/repository.json"``.

    Yields
    ------
    None
        Runs the body.
    """
    writing = action.startswith(_WRITING)
    try:
        yield
    except StorageError as exc:
        if writing and type(exc) is StorageError:  # a backend's bare failure to write
            raise StorageWriteError(str(exc)) from exc
        raise  # a subclass says more (an irregular file, a read-only store)
    except (ArchivistError, FileNotFoundError, FileExistsError):
        raise
    except Exception as exc:
        error = StorageWriteError if writing else StorageError
        raise error(f"{action} failed: {type(exc).__name__}: {exc}") from exc


def open_backend(url: str | os.PathLike[str], **storage_options: Any) -> tuple[Backend, str]:
    """Find the backend for a URL and turn the URL into that backend's path form.

    Parameters
    ----------
    url : str or os.PathLike
        A local path, ``file://`` URL, or a URL whose protocol an installed backend serves.
    **storage_options
        Passed to the backend's filesystem.

    Returns
    -------
    tuple[Backend, str]
        The backend and the path.

    Raises
    ------
    archivist.errors.UnknownBackendError
        No installed backend serves the URL's protocol.
    archivist.errors.StorageError
        The filesystem rejected the storage options.
    archivist.errors.InvalidArgumentError
        The backend does not take an option (the local backend refuses any it does not
        know), or ``storage_options`` is not a mapping.
    """
    text = os.fspath(url)
    # storage_options={...} forwarded inside **kwargs (the pandas/Kedro spelling)
    storage_options = merge_storage_options(f"the storage of {text}", None, storage_options)
    protocol, _ = split_protocol(text)
    backend_cls = get_backend(protocol or "file")
    with storage_errors(f"opening a {backend_cls.__name__} for {text}"):
        backend = backend_cls(**storage_options)
        return backend, backend.strip_protocol(text)


def open_location(
    fpath: str | os.PathLike[str], backend: Backend | None = None, **storage_options: Any
) -> tuple[Backend, str, str]:
    """Resolve a file's path or URL into a backend, its path there, and a display location.

    Parameters
    ----------
    fpath : str or os.PathLike
        A local path or a URL.
    backend : Backend, optional
        Use this backend instead of the one the URL's protocol selects.
    **storage_options
        Passed to the backend's filesystem when one is created.

    Returns
    -------
    tuple[Backend, str, str]
        The backend, the path in its form, and the location for messages: the URL for a
        remote store, the absolute path for a local file.
    """
    if backend is None:
        backend, path = open_backend(fpath, **storage_options)
    else:
        path = backend.strip_protocol(os.fspath(fpath))
    text = os.fspath(fpath)
    location = text if split_protocol(text)[0] not in (None, "file", "local") else path
    return backend, path, location

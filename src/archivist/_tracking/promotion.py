"""Promotion of an experiment's artifact into a versioned repository.

The body of :meth:`archivist.Experiment.promote_artifact`: a saved artifact's file is
streamed into the repository's storage (across backends too), verified against its digest
on arrival and committed at once; an unsaved one is logged to the repository like
``log_artifact``. Either way the new version keeps the artifact's ``created_at`` and file
name (as lazyscribe does), must be newer than the newest version of its name, and records the
project and experiment it came from.
"""

from __future__ import annotations

from datetime import datetime
from typing import IO, TYPE_CHECKING

from archivist._formats.records import require_newer
from archivist._io.trust import check_trusted
from archivist._tracking.tracked import ARTIFACT_FIELDS, LoggedArtifact, copy_stream
from archivist.errors import IntegrityError
from archivist.manifest import CORE_FIELDS, parse_stored_time

if TYPE_CHECKING:
    from archivist.experiment import Experiment
    from archivist.repository import Repository

__all__ = ["check_newer", "promote"]


def promote(experiment: Experiment, repository: Repository, name: str) -> None:
    """Promote the artifact ``name`` of ``experiment`` into ``repository``.

    See :meth:`archivist.Experiment.promote_artifact` for the contract.
    """
    artifact = experiment._find_artifact(name)
    source = {"project": experiment._project, "experiment": experiment.slug}
    repository._require_writable()
    check_newer(repository, name, artifact.created_at)
    if artifact.dirty:
        repository._log_promoted(
            name,
            artifact.value,
            artifact.handler,
            artifact.writer_kwargs,
            source,
            artifact.created_at,
            artifact.fname,
        )
        return
    path = experiment.artifact_location(artifact)
    check_trusted(
        experiment._trust,
        artifact.handler,
        artifact.sha256,
        f"artifact {name!r} of this experiment ({path})",
        "Promoting it would record a digest for it; promote from the project opened with "
        "trust='any' (the new version then carries no digest).",
        action="copy",
    )

    def write(target: IO[bytes]) -> None:
        # The copy is hashed while it streams (at most the recorded size plus one byte, from
        # a regular file only) and checked against the record afterwards, so the source is
        # read once; the repository then checks the copy it stored before committing it.
        unverified = LoggedArtifact(
            artifact.name, artifact.handler, artifact.fname, artifact.created_at
        )
        limit = None if artifact.size is None else artifact.size + 1
        with experiment.open_artifact_file(unverified) as stream:
            sha256, size = copy_stream(stream, target, limit)
        if artifact.sha256 is not None and (sha256, size) != (artifact.sha256, artifact.size):
            raise IntegrityError(
                f"{path} does not match its record in the project (expected sha256 "
                f"{artifact.sha256} and {artifact.size} bytes, read {sha256} and {size} "
                "bytes); it was not promoted"
            )

    metadata = {
        k: v
        for k, v in artifact.metadata.items()
        if k not in CORE_FIELDS and k not in ARTIFACT_FIELDS and k != "source"
    }
    expected = None
    if artifact.sha256 is not None and artifact.size is not None:
        expected = (artifact.sha256, artifact.size)
    repository._promote(
        name,
        artifact.handler,
        write,
        metadata,
        source,
        expected,
        created_at=artifact.created_at,
        fname=artifact.fname,
    )


def check_newer(repository: Repository, name: str, created_at: datetime) -> None:
    """Refuse an artifact created no later than the newest version of ``name``.

    The versions of a name keep strictly increasing ``created_at``, and the newest one is
    what is deployed: a stale experiment must not replace it (lazyscribe's rule too). The
    repository is refreshed first (one conditional read), so a version another writer
    committed since it was opened counts; mode ``w`` replaces the manifest, and does not.
    The commit applies the same rule (:func:`~archivist._formats.records.require_newer`)
    to the manifest it commits to, so a version another writer commits after this check
    counts too.

    Raises
    ------
    archivist.errors.LogError
        ``created_at`` is not after the newest version's (saved or pending, expired or not).
    """
    if repository.mode != "w":
        repository.refresh()
    if name not in repository:
        return
    newest = repository.versions(name)[-1]
    latest = parse_stored_time(
        repository.get_artifact_metadata(name, newest)["created_at"], "created_at"
    )
    require_newer(name, created_at, newest, latest, repository.location)

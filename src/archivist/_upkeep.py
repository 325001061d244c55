"""Keeping a repository: verify, adopt, gc (save journals), aliases and retention."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from archivist import _aliases, _retention
from archivist._adopt import adopt as _adopt
from archivist._journal import (
    collect_garbage,
)
from archivist._repo_base import RepositoryBase
from archivist.errors import (
    ArtifactNotFoundError,
    IntegrityError,
    InvalidArgumentError,
    RepositoryNotFoundError,
    StorageError,
)

__all__ = ["UpkeepMixin", "VerificationReport"]


@dataclass(frozen=True)
class VerificationReport:
    """What :meth:`Repository.verify` found.

    Attributes
    ----------
    checked : int
        Versions whose file was present and matched its digest and size.
    unverifiable : list[tuple[str, int]]
        Versions present on storage but recorded without a digest (written by lazyscribe).
    orphans : list[str]
        Files written by saves of this repository that never committed (named in a save
        journal, provably written by that save, named by no version):
        ``gc(older_than=timedelta(0))`` would remove them. The files of a crashed save
        without a journal (``journal=False``) are not listed: nothing proves them
        uncommitted, and gc never removes them.
    """

    checked: int
    unverifiable: list[tuple[str, int]] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)


class UpkeepMixin(RepositoryBase):
    """Checks and maintenance: verify, adopt, gc, aliases and prune."""

    def verify(self) -> VerificationReport:
        """Check that every committed version's file is present and matches its digest.

        Returns
        -------
        VerificationReport
            Counts, versions without a digest, and orphan files (reported, not failed).

        Raises
        ------
        archivist.errors.IntegrityError
            A file is missing, not a regular file, or does not match its digest or size; the
            message lists every such version (each file is hashed in one bounded pass).
        """
        problems: list[str] = []
        unverifiable: list[tuple[str, int]] = []
        checked = 0
        for record in self._committed:
            try:
                # presence and regularity, and the digest where one is recorded
                self.store.check_file(record.name, record.fname, record.sha256, record.size)
            except (ArtifactNotFoundError, IntegrityError, StorageError) as exc:
                problems.append(f"version {record.version} of {record.name!r}: {exc}")
                continue
            if record.sha256 is None:
                unverifiable.append((record.name, record.version))
            else:
                checked += 1
        orphans = collect_garbage(self.store, self._referenced(), timedelta(0), dry_run=True)
        if problems:
            raise IntegrityError(
                f"{len(problems)} version(s) in {self.location} failed verification:\n"
                + "\n".join(problems)
            )
        return VerificationReport(checked, unverifiable, orphans)

    def adopt(self, dry_run: bool = False) -> list[tuple[str, int]]:
        """Record digests for committed versions that have none (written by lazyscribe).

        Each such version's file is hashed once (regular files only) and its SHA-256 and size
        are recorded in place, committed with the same compare-and-swap as :meth:`save`.
        From then on its loads are verified, also under ``trust="verified"``. It vouches for
        the files as they are now: run it once you trust them. Mode ``a`` may adopt, since
        adopting only fills in missing digests; running it again adopts nothing.

        Parameters
        ----------
        dry_run : bool, optional
            Hash the files but record nothing (allowed in mode ``r``).

        Returns
        -------
        list[tuple[str, int]]
            ``(name, version)`` of the versions adopted (or that would be). Versions whose
            file is missing or not a regular file are skipped with an
            :class:`~archivist.ArchivistWarning`.

        Raises
        ------
        archivist.errors.ReadOnlyError
            The repository is open in mode ``r`` and ``dry_run`` is false.
        archivist.errors.ConflictError
            Other writers kept committing; nothing was recorded.
        """
        return _adopt(self._as_repository(), dry_run)

    def gc(self, older_than: timedelta = timedelta(hours=1), dry_run: bool = False) -> list[str]:
        """Delete the files of saves that never committed, and nothing else.

        A file is deleted only when a journal of a save of *this* repository names it, the
        manifest does not, and the file is provably the one that save wrote (see
        ``docs/design.md``, "Ownership"). User files, other repositories, projects, release
        files and files a manifest replaced by mode ``w`` named are never touched, nor are
        the files a save without a journal (``journal=False``) left when it was killed.

        Parameters
        ----------
        older_than : datetime.timedelta, optional
            Only saves whose journal is older than this (default one hour) are taken as
            dead; a younger one may still be running. Use zero only when no save of this
            repository is running anywhere.
        dry_run : bool, optional
            Only list what would be deleted.

        Returns
        -------
        list[str]
            The files deleted (or that would be).

        Raises
        ------
        archivist.errors.ReadOnlyError
            The repository is open in mode ``r`` (and ``dry_run`` is false).
        archivist.errors.RepositoryNotFoundError
            There is no manifest at this location: gc refuses to judge any file.
        archivist.errors.InvalidArgumentError
            ``older_than`` is negative or not a timedelta.
        archivist.errors.UnsupportedOperationError
            The store keeps no save journals, or (unless ``dry_run``) cannot delete files.
        """
        if not isinstance(older_than, timedelta) or older_than < timedelta(0):
            raise InvalidArgumentError(
                f"older_than must be a timedelta of zero or more, got {older_than!r}; "
                "for example timedelta(hours=1)"
            )
        if not dry_run:
            self._require_writable()
            self.store.require("supports_deletes", "gc")
        self.store.require("supports_journals", "gc")  # without journals nothing is provable
        self.refresh()  # never judge by a stale manifest: another writer may have committed
        if self._token is None:
            raise RepositoryNotFoundError(
                f"no repository at {self.location}: there is no manifest, so gc deletes "
                "nothing. Check the path."
            )
        return collect_garbage(self.store, self._referenced(), older_than, dry_run)

    def set_alias(self, name: str, alias: str, version: int | datetime | str) -> _aliases.AliasMove:
        """Point an alias (``production``) at a saved version; the move is committed at once.

        Aliases live in a file beside the manifest (``repository.aliases.json`` for
        ``repository.json``) that keeps every move, so :meth:`alias_history` and
        ``load_artifact(name, alias=..., as_of=...)`` can answer what an alias named when.

        Parameters
        ----------
        name : str
            The artifact name.
        alias : str
            The alias: a letter, then letters, digits, ``_``, ``.`` or ``-``.
        version : int, datetime.datetime or str
            The version, as in :meth:`load_artifact` (``match="exact"``).

        Returns
        -------
        AliasMove
            The move as committed (``from_version`` is where the alias pointed before).

        Raises
        ------
        archivist.errors.ReadOnlyError
            The repository is open in mode ``r``.
        archivist.errors.InvalidNameError
            The alias is not a valid alias name.
        archivist.errors.ArtifactNotFoundError
            No artifact has that name, or the version is not saved yet.
        archivist.errors.VersionNotFoundError
            No such version, or it has expired.
        archivist.errors.ConflictError
            Other writers kept moving aliases; nothing was changed.
        """
        return _aliases.set_alias(self._as_repository(), name, alias, version)

    def remove_alias(self, name: str, alias: str) -> _aliases.AliasMove:
        """Remove an alias; its history is kept.

        Parameters
        ----------
        name : str
            The artifact name.
        alias : str
            The alias.

        Returns
        -------
        AliasMove
            The removal as committed (``to_version`` is ``None``).

        Raises
        ------
        archivist.errors.VersionNotFoundError
            The artifact has no such alias.
        """
        return _aliases.remove_alias(self._as_repository(), name, alias)

    def aliases(self, name: str) -> dict[str, int]:
        """Return the aliases of an artifact and the version each names now.

        Parameters
        ----------
        name : str
            The artifact name.

        Returns
        -------
        dict[str, int]
            ``{alias: version}``, sorted by alias.
        """
        return _aliases.aliases(self._as_repository(), name)

    def alias_history(self, name: str, alias: str) -> list[_aliases.AliasMove]:
        """Return the moves of an alias, oldest first.

        Parameters
        ----------
        name : str
            The artifact name.
        alias : str
            The alias.

        Returns
        -------
        list[AliasMove]
            Each with ``when``, ``from_version`` (``None`` for the first) and ``to_version``
            (``None`` when the alias was removed).

        Raises
        ------
        archivist.errors.VersionNotFoundError
            The alias never existed.
        """
        return _aliases.alias_history(self._as_repository(), name, alias)

    def prune(
        self,
        keep_last: int | None = None,
        keep_within: timedelta | None = None,
        dry_run: bool = False,
    ) -> list[tuple[str, int]]:
        """Remove old versions from the manifest, then their files; see ``docs/retention.md``.

        A version survives when either rule keeps it, or when it is pinned: named by a
        release in the repository's release file or by an alias, or the latest unexpired
        or the highest-numbered version of its name. The manifest commit comes first; the
        numbers of the remaining versions never change and a pruned number is never reused.

        Parameters
        ----------
        keep_last : int, optional
            Keep the newest ``keep_last`` versions of each name.
        keep_within : datetime.timedelta, optional
            Keep the versions created within this long before now.
        dry_run : bool, optional
            Only return what would be removed.

        Returns
        -------
        list[tuple[str, int]]
            The ``(name, version)`` pairs removed (or that would be).

        Raises
        ------
        archivist.errors.InvalidArgumentError
            Neither rule is given, or a rule has a bad value.
        archivist.errors.ReadOnlyError
            Mode ``r`` or ``a`` (and ``dry_run`` is false).
        archivist.errors.UnsavedChangesError
            The repository holds unsaved changes.
        archivist.errors.ConflictError
            Other writers kept committing; nothing was removed.
        archivist.errors.UnsupportedOperationError
            The store cannot delete files (and ``dry_run`` is false).
        """
        return _retention.prune(self._as_repository(), keep_last, keep_within, dry_run)

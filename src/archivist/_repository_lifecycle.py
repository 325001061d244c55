"""The lifecycle half of :class:`~archivist.Repository`'s face: verify, adopt, gc, aliases, prune.

:class:`RepositoryLifecycle` holds no state of its own: each method forwards to a lifecycle
module's function over the repository's store and session (``archivist._lifecycle``), as
``Repository``'s reading and writing methods forward to the commit protocol and the reading
functions. It is a base class only so that the face reads in two files of a few hundred
lines; :class:`~archivist.Repository` is the only class built on it, and the API reference
shows its methods as ``Repository``'s.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import IO, TYPE_CHECKING, Any, Literal, overload

from archivist._commit import protocol
from archivist._lifecycle import aliases as _aliases
from archivist._lifecycle import retention as _retention
from archivist._lifecycle import upkeep as _upkeep
from archivist._lifecycle.adopt import adopt as _adopt
from archivist._lifecycle.plans import GcPlan, PrunePlan
from archivist._lifecycle.upkeep import VerificationReport
from archivist.errors import UnsavedChangesError
from archivist.manifest import VersionRecord, check_name, utcnow
from archivist.plugin.manager import get_handler, plugin_manager

if TYPE_CHECKING:
    from archivist._commit.session import Session
    from archivist._io.trust import Trust
    from archivist.stores import AbstractRepositoryStore

__all__ = ["RepositoryLifecycle"]


class RepositoryLifecycle:
    """A repository's upkeep: integrity, adoption, gc, aliases and retention.

    The base of :class:`~archivist.Repository`, which sets the attributes below.
    """

    store: AbstractRepositoryStore
    trust: Trust
    journal: bool
    _session: Session

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
        return _upkeep.verify(self.store, self._session)

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
        archivist.errors.UntrustedArtifactError
            The repository was opened with ``trust="verified"`` and a version to adopt has a
            handler that runs code: a strict repository never vouches for unverified code.
        """
        return _adopt(self.store, self._session, self.trust, dry_run)

    @overload
    def gc(
        self,
        older_than: timedelta = ...,
        dry_run: Literal[False] = ...,
        *,
        plan: GcPlan | None = None,
    ) -> list[str]: ...

    @overload
    def gc(self, older_than: timedelta, dry_run: Literal[True]) -> GcPlan: ...

    @overload
    def gc(self, older_than: timedelta = ..., *, dry_run: Literal[True]) -> GcPlan: ...

    def gc(
        self,
        older_than: timedelta = timedelta(hours=1),
        dry_run: bool = False,
        *,
        plan: GcPlan | None = None,
    ) -> list[str] | GcPlan:
        """Delete the files of saves that never committed, and nothing else.

        A file is deleted only when a journal of a save of *this* repository names it, the
        manifest does not, and the file is provably the one that save wrote (see
        ``docs/design.md``, "Ownership"). User files, other repositories, projects, release
        files and files a manifest replaced by mode ``w`` named are never touched, nor are
        the files a save without a journal (``journal=False``) left when it was killed.

        ``gc(dry_run=True)`` returns a :class:`GcPlan`, and ``gc(plan=plan)`` deletes
        exactly its files: each is judged again by the same rules first, and one that no
        longer qualifies (a version names it now, it changed, its journal changed) is kept
        with an :class:`~archivist.ArchivistWarning`. A file that became an orphan after
        the plan was made is never deleted by it.

        Parameters
        ----------
        older_than : datetime.timedelta, optional
            Only saves whose journal is older than this (default one hour) are taken as
            dead; a younger one may still be running. Use zero only when no save of this
            repository is running anywhere.
        dry_run : bool, optional
            Only plan: return what would be deleted, as a :class:`GcPlan`.
        plan : GcPlan, optional
            Delete exactly what this plan (from a dry run on this repository) lists, with
            the ``older_than`` it was made with.

        Returns
        -------
        list[str] or GcPlan
            The files deleted, sorted; with ``dry_run``, the plan (its ``locations`` are
            the files that would be deleted).

        Raises
        ------
        archivist.errors.ReadOnlyError
            The repository is open in mode ``r`` (and ``dry_run`` is false).
        archivist.errors.RepositoryNotFoundError
            There is no manifest at this location: gc refuses to judge any file.
        archivist.errors.InvalidArgumentError
            ``older_than`` is negative, not a timedelta, or reaches back before the year 1;
            or ``plan`` is not a :class:`GcPlan` of this repository, or comes with
            ``dry_run``.
        archivist.errors.UnsupportedOperationError
            The store keeps no save journals, or (unless ``dry_run``) cannot delete files.
        """
        return _upkeep.gc(self.store, self._session, older_than, dry_run, plan)

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
        return _aliases.set_alias(self.store, self._session, name, alias, version)

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
        return _aliases.remove_alias(self.store, self._session, name, alias)

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
        return _aliases.aliases(self.store, self._session, name)

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
        return _aliases.alias_history(self.store, name, alias)

    @overload
    def prune(
        self,
        keep_last: int | None = None,
        keep_within: timedelta | None = None,
        dry_run: Literal[False] = False,
        *,
        plan: PrunePlan | None = None,
    ) -> list[tuple[str, int]]: ...

    @overload
    def prune(
        self, keep_last: int | None, keep_within: timedelta | None, dry_run: Literal[True]
    ) -> PrunePlan: ...

    @overload
    def prune(
        self,
        keep_last: int | None = None,
        keep_within: timedelta | None = None,
        *,
        dry_run: Literal[True],
    ) -> PrunePlan: ...

    def prune(
        self,
        keep_last: int | None = None,
        keep_within: timedelta | None = None,
        dry_run: bool = False,
        *,
        plan: PrunePlan | None = None,
    ) -> list[tuple[str, int]] | PrunePlan:
        """Remove old versions from the manifest, then their files; see ``docs/retention.md``.

        A version survives when either rule keeps it, or when it is pinned: named by a
        release in the repository's release file or by an alias, or the latest unexpired
        or the highest-numbered version of its name. The manifest commit comes first; the
        numbers of the remaining versions never change and a pruned number is never reused.

        ``prune(..., dry_run=True)`` returns a :class:`PrunePlan`, and ``prune(plan=plan)``
        removes exactly its versions: each is checked again first (still recorded with the
        same file and digest, not pinned, still removable by the plan's rules), and one that
        no longer qualifies is kept with an :class:`~archivist.ArchivistWarning`. A version
        saved after the plan was made never makes another one go.

        Parameters
        ----------
        keep_last : int, optional
            Keep the newest ``keep_last`` versions of each name.
        keep_within : datetime.timedelta, optional
            Keep the versions created within this long before now.
        dry_run : bool, optional
            Only plan: return what would be removed, as a :class:`PrunePlan`.
        plan : PrunePlan, optional
            Remove exactly what this plan (from a dry run on this repository) lists, by the
            rules it was made with (give no rule with it).

        Returns
        -------
        list[tuple[str, int]] or PrunePlan
            The ``(name, version)`` pairs removed, sorted; with ``dry_run``, the plan (its
            ``pairs`` are what would be removed).

        Raises
        ------
        archivist.errors.InvalidArgumentError
            Neither rule is given, a rule has a bad value (``keep_within`` reaching back
            before the year 1 included), or ``plan`` is not a :class:`PrunePlan` of this
            repository, or comes with a rule or ``dry_run``.
        archivist.errors.ReadOnlyError
            Mode ``r`` or ``a`` (and ``dry_run`` is false).
        archivist.errors.UnsavedChangesError
            The repository holds unsaved changes.
        archivist.errors.ConflictError
            Other writers kept committing; nothing was removed.
        archivist.errors.UnsupportedOperationError
            The store cannot delete files (and ``dry_run`` is false).
        """
        return _retention.prune(self.store, self._session, keep_last, keep_within, dry_run, plan)

    def _promote(
        self,
        name: str,
        handler: str,
        write: Callable[[IO[bytes]], None],
        metadata: Mapping[str, Any],
        source: Mapping[str, Any],
        expected: tuple[str, int] | None = None,
        created_at: datetime | None = None,
        fname: str | None = None,
    ) -> dict[str, Any]:
        """Store an already-serialized file as a new version of ``name`` and commit it now.

        ``write`` streams the file's bytes into the repository's storage (write-if-absent);
        the file is then checked against ``expected`` (sha256, size) and re-read verified,
        and committed through the commit protocol. On any failure the file is removed and
        nothing is committed. Returns the committed record. ``created_at`` and ``fname``,
        when given, are kept (a file name a version already uses is refused).
        """
        self._session.require_writable()
        if self._session.has_changes:
            raise UnsavedChangesError(
                f"{self.store.location} holds changes that are not saved; save() before promoting "
                "a saved experiment artifact, which commits at once"
            )
        check_name(name)
        handler_cls = get_handler(handler)
        keep_time = created_at is not None
        created_at = utcnow() if created_at is None else created_at
        record = VersionRecord(
            name=name,
            version=self._session.committed.last_version(name) + 1,
            handler=handler_cls.alias,
            fname=self._session.file_name(name, fname, created_at, handler_cls.suffix),
            created_at=created_at,
        )
        self.store.check_new_file(name, record.fname)
        added = protocol.commit_file(
            self.store,
            self._session,
            record,
            write,
            {**metadata, "source": source},
            expected,
            self.journal,
            auto_fname=fname is None,
            keep_time=keep_time,
        )
        plugin_manager().hook.archivist_after_commit(
            location=self.store.location, versions=[added.to_dict()]
        )
        return added.to_dict()

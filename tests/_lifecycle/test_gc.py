"""gc's plan (``archivist._lifecycle.gc``) over a store whose journals change under it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from archivist import Repository
from archivist._lifecycle.gc import plan_gc
from archivist.stores import ManifestStore


class _Vanishing(ManifestStore):
    """A store whose journals are deleted by someone else right after they are listed."""

    def list_journals(self) -> list[str]:
        listed = super().list_journals()
        for journal_id in listed:
            self.delete_journal(journal_id)  # another save finished meanwhile
        return listed


def test_a_journal_deleted_after_the_listing_is_skipped(tmp_path: Path) -> None:
    manifest = tmp_path / "repository.json"
    repository = Repository(manifest, mode="w")
    repository.log_artifact("features", [1], handler="json")
    repository.save()
    store = _Vanishing(manifest)
    store.write_journal("20260101T000000000000-0123456789abcdef", b'{"format": 1, "files": []}')
    plan = plan_gc(store, set(), timedelta(0))
    assert plan.files == () and plan.journals == ()

"""archivist-joblib is found through its entry point alone, and requires a compatible core."""

from __future__ import annotations

from archivist import get_handler
from archivist.testing import DistributionTests


class TestDistribution(DistributionTests):
    distribution = "archivist-joblib"
    provides = "joblib"
    archivist_range = (">=0.1", "<0.2")


def test_reading_a_joblib_file_runs_code() -> None:
    """joblib unpickles: under ``trust="verified"`` it reads only files with a digest."""
    assert get_handler("joblib").executes_code is True

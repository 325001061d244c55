"""archivist-parquet is found through its entry point alone, and requires a compatible core."""

from __future__ import annotations

from archivist.testing import DistributionTests


class TestDistribution(DistributionTests):
    distribution = "archivist-parquet"
    provides = "parquet"
    archivist_range = (">=0.1", "<0.2")

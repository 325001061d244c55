"""The joblib handler: the conformance suite, plus package-version checks and compression."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, ClassVar

import joblib
import numpy as np
import pytest
from archivist_joblib import JoblibHandler, package_version
from sklearn.linear_model import LinearRegression

import archivist
from archivist import EnvironmentMismatchError, Repository
from archivist.errors import ArchivistWarning
from archivist.testing import HandlerConformanceTests, LegacyVersion


def _fitted_model() -> LinearRegression:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 3))
    return LinearRegression().fit(x, x @ np.array([1.0, -2.0, 0.5]) + 3.0)


def _dumped(value: Any, **kwargs: Any) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(value, buffer, **kwargs)
    return buffer.getvalue()


class TestJoblibConformance(HandlerConformanceTests):
    handler_class = JoblibHandler
    sample_values = (
        np.arange(1000, dtype=np.float64).reshape(100, 10),
        _fitted_model(),
        {"weights": np.ones(3, dtype=np.int32), "classes": ["a", "b"]},
    )
    writer_kwargs: ClassVar[dict[str, Any]] = {"compress": 3}
    reader_kwargs: ClassVar[dict[str, Any]] = {"mmap_mode": None}
    unsupported_values = (threading.Lock(),)

    def assert_equal(self, loaded: Any, expected: Any) -> None:
        assert type(loaded) is type(expected)
        assert joblib.hash(loaded) == joblib.hash(expected)

    def legacy_versions(self) -> list[LegacyVersion]:
        array = np.linspace(0.0, 1.0, 11)
        content = _dumped(array)
        # The fields lazyscribe-joblib records, under the running versions: loads silently.
        same = {
            "package": "numpy",
            "package_version": np.__version__,
            "joblib_version": joblib.__version__,
        }
        return [
            LegacyVersion(content, array, same),
            LegacyVersion(content, array, {**same, "package_version": "1.0.0"}, mismatch=True),
        ]


def test_records_the_package_of_the_value() -> None:
    handler = JoblibHandler()
    assert handler.metadata(np.zeros(2)) == {
        "joblib_version": joblib.__version__,
        "package": "numpy",
        "package_version": np.__version__,
    }
    model_metadata = handler.metadata(_fitted_model())
    assert model_metadata["package"] == "sklearn"
    assert model_metadata["package_version"] == package_version("sklearn")
    assert package_version("sklearn") is not None


def test_standard_library_values_record_no_package_version() -> None:
    metadata = JoblibHandler().metadata({"a": 1})
    assert metadata["package"] == "builtins"
    assert metadata["package_version"] is None
    assert JoblibHandler().mismatches(metadata) == []


@pytest.fixture
def saved_model(tmp_path: Path) -> str:
    url = str(tmp_path / "repository.json")
    repository = Repository(url, mode="w")
    repository.log_artifact("model", _fitted_model(), handler="joblib", compress=3)
    repository.save()
    return url


def _claim(url: str, **fields: Any) -> None:
    store = Repository(url, mode="r").store
    snapshot = store.read()
    records = [record.replace(extra={**record.extra, **fields}) for record in snapshot.records]
    store.commit(records, snapshot.token)


def test_other_package_version_is_refused_then_warned(saved_model: str) -> None:
    _claim(saved_model, package_version="0.1.0")
    repository = Repository(saved_model, mode="r")
    with pytest.raises(EnvironmentMismatchError, match=r"sklearn: written with '0\.1\.0'"):
        repository.load_artifact("model")
    with pytest.warns(ArchivistWarning, match="sklearn"):
        model = repository.load_artifact("model", validate=False)
    assert isinstance(model, LinearRegression)
    np.testing.assert_allclose(model.coef_, [1.0, -2.0, 0.5])


def test_other_joblib_version_is_refused(saved_model: str) -> None:
    _claim(saved_model, joblib_version="0.9.0")
    with pytest.raises(EnvironmentMismatchError, match=r"joblib_version: written with '0\.9\.0'"):
        Repository(saved_model, mode="r").load_artifact("model")


def test_package_not_installed_is_named(saved_model: str) -> None:
    _claim(saved_model, package="archivist_no_such_package", package_version="2.0")
    with pytest.raises(EnvironmentMismatchError, match="not installed"):
        Repository(saved_model, mode="r").load_artifact("model")


def test_compress_shrinks_the_stored_file(tmp_path: Path) -> None:
    repository = Repository(tmp_path / "repository.json", mode="w")
    value = np.zeros(100_000)
    repository.log_artifact("plain", value, handler="joblib")
    repository.log_artifact("small", value, handler="joblib", compress=3)
    repository.save()
    plain = repository.get_artifact_metadata("plain")["size"]
    small = repository.get_artifact_metadata("small")["size"]
    assert small * 20 < plain
    np.testing.assert_array_equal(repository.load_artifact("small"), value)


def test_large_array_is_streamed_back(tmp_path: Path) -> None:
    # Above the core's 64 MiB in-memory limit the file is verified, then streamed.
    value = np.arange(9_000_000, dtype=np.float64)
    repository = Repository(tmp_path / "repository.json", mode="w")
    repository.log_artifact("big", value, handler="joblib")
    repository.save()
    assert repository.get_artifact_metadata("big")["size"] > 64 << 20
    np.testing.assert_array_equal(Repository(repository.location, "r").load_artifact("big"), value)


def test_found_through_its_entry_point() -> None:
    assert archivist.get_handler("joblib") is JoblibHandler


def test_discovery_does_not_import_joblib() -> None:
    # Everyone with the plugin installed pays for what its entry point module imports.
    code = (
        "import sys, archivist_joblib.hooks as hooks; "
        "assert hooks.archivist_register_handlers()[0].alias == 'joblib'; "
        "print('joblib' in sys.modules, 'numpy' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False False"

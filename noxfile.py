"""Sessions: tests, lazyscribe_plugins, lint, typecheck, docs, install, demo, bench, stress.

Run them with ``python3 dev.py -s NAME``.
"""

from __future__ import annotations

import os
import platform
import shutil
from datetime import UTC, datetime
from pathlib import Path

import nox
from packaging.requirements import Requirement

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "typecheck", "tests"]

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml("pyproject.toml")
#: Every folder under plugins/ is its own distribution, installed and tested with the core.
PLUGINS = sorted(
    p.parent.relative_to(ROOT).as_posix() for p in ROOT.glob("plugins/*/pyproject.toml")
)


def install_project(session: nox.Session, *groups: str) -> None:
    """Install the core and every plugin distribution (editable), plus dependency groups."""
    editable = [arg for path in [".", *PLUGINS] for arg in ("-e", path)]
    extras = [pkg for group in groups for pkg in nox.project.dependency_groups(PYPROJECT, group)]
    session.install(*editable, *extras)


#: Azurite (the Azure Blob emulator) is an npm package; 3.35 is the last to run on Node 20.
AZURITE = ROOT / ".cache" / "azurite"
AZURITE_VERSION = "3.35.0"
#: gcsfs must not try gRPC against the plain-HTTP GCS emulator; S3 clients need a region.
EMULATOR_ENV = {
    "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false",
    "AWS_DEFAULT_REGION": "us-east-1",
    "ARCHIVIST_AZURITE_PREFIX": str(AZURITE),
}


def install_azurite(session: nox.Session) -> None:
    """Install Azurite into .cache/azurite with npm, unless it is there already."""
    if (AZURITE / "node_modules" / ".bin" / "azurite-blob").is_file():
        return
    if shutil.which("npm") is None:
        message = "npm (Node.js 20+) is needed to install Azurite for the Azure backend's tests"
        if os.environ.get("CI"):
            session.error(message)
        session.warn(message + "; they will be skipped")
        return
    session.run(
        "npm",
        "install",
        "--no-audit",
        "--no-fund",
        "--prefix",
        str(AZURITE),
        f"azurite@{AZURITE_VERSION}",
        external=True,
    )


@nox.session
def tests(session: nox.Session) -> None:
    """Run the whole test suite: core, every plugin, cloud backends on emulators."""
    install_project(session, "test")
    install_azurite(session)
    tests_dirs = ["tests", *(f"{p}/tests" for p in PLUGINS if (ROOT / p / "tests").is_dir())]
    session.run("pytest", *tests_dirs, *session.posargs, env=EMULATOR_ENV)


#: What the lazyscribe_plugins session installs from the test group, beside the core alone:
#: lazyscribe, its handler distributions (same pins), and what the compatibility tests import.
LAZYSCRIBE_PLUGIN_TESTS = frozenset(
    {
        "pytest",
        "lazyscribe",
        "lazyscribe-yaml",
        "lazyscribe-joblib",
        "lazyscribe-onnx",
        "onnx",
        "lazyscribe-arrow",
        "pyarrow",
        "python-slugify",
        "time-machine",
        "numpy",
        "scikit-learn",
    }
)


@nox.session
def lazyscribe_plugins(session: nox.Session) -> None:
    """Run the lazyscribe compatibility tests with archivist's core alone and lazyscribe's plugins.

    The tests session installs archivist's plugins too, whose ``joblib`` and ``parquet``
    win over lazyscribe-joblib's and lazyscribe-arrow's; here lazyscribe's handler packages
    are all a user has, so every alias goes through the adapter.
    """
    test_group = nox.project.dependency_groups(PYPROJECT, "test")
    wanted = [req for req in test_group if Requirement(req).name in LAZYSCRIBE_PLUGIN_TESTS]
    missing = LAZYSCRIBE_PLUGIN_TESTS - {Requirement(req).name for req in wanted}
    if missing:
        session.error(f"not in the test dependency group: {', '.join(sorted(missing))}")
    session.install("-e", ".", *wanted)
    plugins = [
        f"{Path(plugin).name}={package.name}"
        for plugin in PLUGINS
        for package in (ROOT / plugin / "src").iterdir()
        if (package / "__init__.py").is_file()
    ]
    # first, loudly: no archivist plugin may be installed or importable here
    session.run("python", ".ci/check_core_alone.py", *plugins, env={"PYTHONPATH": ""})
    session.run(
        "pytest",
        "tests/compat",
        "tests/handlers/test_lazyscribe_adapter.py",
        *session.posargs,
        env={"PYTHONPATH": ""},
    )


#: How many writers the stress session stops per signal and store (tests default to 2).
STRESS_ITERATIONS = "50"


@nox.session
def stress(session: nox.Session) -> None:
    """Stop saving writers with Ctrl-C and SIGKILL many times, on local disk and every emulator.

    ``ARCHIVIST_STRESS_ITERATIONS`` (default 50) sets the stops per signal and store; the
    normal test run makes two. Not a default session: it takes minutes.
    """
    install_project(session, "test")
    install_azurite(session)
    iterations = os.environ.get("ARCHIVIST_STRESS_ITERATIONS", STRESS_ITERATIONS)
    suites = [
        "tests/test_save_interrupts.py",
        *(
            f"{p}/tests/test_safety.py"
            for p in PLUGINS
            if (ROOT / p / "tests/test_safety.py").is_file()
        ),
    ]
    env = {**EMULATOR_ENV, "ARCHIVIST_STRESS_ITERATIONS": iterations}
    # -rP shows each suite's InterruptReport: stops, versions, exit codes and exit times
    session.run("pytest", *suites, "-k", "InterruptedSaves", "-rP", *session.posargs, env=env)


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff (lint and format) and the import contracts (core never imports a plugin)."""
    install_project(session, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the core and every plugin's source."""
    install_project(session, "typecheck")
    sources = ["src", *(f"{p}/src" for p in PLUGINS)]
    session.run("mypy", *sources)


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation strictly and run every example in it."""
    install_project(session, "docs")
    session.run("mkdocs", "build", "--strict", "--site-dir", str(ROOT / "site"))
    docs_tests = [
        "tests/test_docs.py",
        "tests/test_docs_site.py",
        "tests/test_guide.py",
        "tests/handlers/test_writing_a_handler.py",
    ]
    session.run("pytest", *docs_tests, "-q")


#: What the install check puts in a fresh environment: the README's command, core + plugins.
INSTALL_CHECK = ["./plugins/archivist-parquet", "./plugins/archivist-s3"]


@nox.session(venv_backend="none")
def install(session: nox.Session) -> None:
    """Install core + parquet + s3 into a fresh venv with the documented command; use them."""
    target = Path(session.create_tmp()) / "fresh-venv"
    python = target / ("Scripts" if os.name == "nt" else "bin") / "python"
    session.run("uv", "venv", "--quiet", "--clear", str(target), external=True)
    session.run("uv", "pip", "install", "--python", str(python), ".", *INSTALL_CHECK, external=True)
    check = (
        "import archivist; "
        "assert archivist.get_handler('parquet').alias == 'parquet'; "
        "assert archivist.get_backend('s3'); "
        "print('core + parquet + s3 installed from the checkout:', archivist.__version__)"
    )
    session.run(str(python), "-c", check, external=True)
    session.run(str(python), "-m", "archivist", "--version", external=True)


@nox.session
def demo(session: nox.Session) -> None:
    """Run the demo: log, version and time-travel artifacts on local disk."""
    session.install("-e", ".")
    session.run("archivist", "demo", *session.posargs)


#: Where the bench session keeps its results, one file per UTC day; the README quotes one.
BENCH_RESULTS = ROOT / "bench" / "results"


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmark archivist against lazyscribe 2.2.2 in one process; prints ratios.

    The output is also written to ``bench/results/<UTC date>.txt`` (with the commit and the
    machine it ran on): commit the file whose figures a document quotes.
    """
    install_project(session, "bench")
    env = {"PYTHONHASHSEED": "0"}
    commit = session.run("git", "rev-parse", "HEAD", external=True, silent=True) or ""
    lines = [
        f"python3 dev.py -s bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"commit {commit.strip()}, {platform.platform()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
    ]
    for script in sorted((ROOT / "bench").glob("bench_*.py")):
        if session.posargs and script.stem not in session.posargs:
            continue
        output = session.run("python", str(script), env=env, silent=True) or ""
        print(output, end="")
        lines += ["", f"$ python bench/{script.name}", output.rstrip()]
    BENCH_RESULTS.mkdir(exist_ok=True)
    results = BENCH_RESULTS / f"{datetime.now(UTC):%Y-%m-%d}.txt"
    results.write_text("\n".join(lines) + "\n")
    session.log(f"results kept in {results.relative_to(ROOT)}")


if os.environ.get("CI"):
    nox.options.error_on_missing_interpreters = True

"""Allow ``python -m archivist``."""

from __future__ import annotations

import sys

from archivist.cli import main

sys.exit(main())

"""Handlers: the plugins that turn values into stored files and back."""

from __future__ import annotations

from archivist.handlers._json import JSONHandler
from archivist.handlers._pickle import PickleHandler
from archivist.handlers.base import Handler

__all__ = ["Handler", "JSONHandler", "PickleHandler"]

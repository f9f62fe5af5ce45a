"""Tickets where the team already keeps them: GitHub issues (REST API v3, 2022-11-28) and
Zammad tickets (REST API v1) brought into the support queue, actors mapped to enrolled people,
each step once."""

from __future__ import annotations

from inhouse.support.importers.github import import_github
from inhouse.support.importers.mapping import ImportReport, ImportSettings, load_import_settings
from inhouse.support.importers.zammad import import_zammad

__all__ = [
    "ImportReport",
    "ImportSettings",
    "import_github",
    "import_zammad",
    "load_import_settings",
]

"""The dashboard (``inhouse web serve``): the whole program on one page for the rollout lead,
and every person's next step, in a browser.

An edge beside :mod:`inhouse.cli`: server-rendered pages with JSON twins and an OpenAPI
document (:mod:`.app`), each page's data from the play packages (:mod:`.pages`), inline SVG
charts (:mod:`.charts`), sign-in with the person's own key and sessions (:mod:`.signin`).
No business rules here, no CDN, no build step: it works air-gapped. See docs/web.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from inhouse.terminal import clean_logs

if TYPE_CHECKING:
    from inhouse.web.app import create_app

__all__ = ["create_app"]

# a client's text (a path, a header, an exception quoting them) forges no line in the log
clean_logs("inhouse.web")


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from inhouse.web.app import create_app

        return create_app
    raise AttributeError(f"module 'inhouse.web' has no attribute {name!r}")

"""Library prompts at the gateway's door: resolved, rendered, and recorded by version.

A client uses a shared prompt in one of two ways:

* ``X-Inhouse-Prompt: NAME@VERSION`` (or ``NAME@LABEL``, or ``NAME`` alone for production,
  else the latest) with its own messages: the name is resolved against the library as it is at
  that moment, and the usage log records the version, ``NAME@VERSION``. The gateway sends the
  model none of it, so the row also records whether the client pinned that very version
  (``prompt_sent`` 1: it chose it by number) or only named the prompt (0: the version is the
  one the name pointed to then, which a lead's new version or moved label changes under a
  client that never saw it). What counts as someone's use of a version (``prompt.usage``'s
  people, a finding's confirmation, a step's shared prompt) is the use it was sent;
* a chat request whose body carries ``"prompt": {"name": N, "label": L | "version": V,
  "variables": {…}}`` and no messages (or an empty list, which is what the ``openai`` client
  sends for ``messages=[]``): the gateway renders the version's messages from the library in
  the workflows' sandbox, the variables checked against their declared types, and the request
  goes on with them, through the same data rules as any other (so the rendered text is
  scanned), recorded as ``NAME@VERSION``, sent (``prompt_sent`` 1).

An unknown prompt, version or label, or a missing, unknown or mistyped variable, is a 400 in
OpenAI's error shape naming it. The library is a fold over the program's event log (the
verified state the gateway follows, :mod:`inhouse.gateway.programlog`), read on start and
brought up to date every ``keys_refresh_seconds``, one new event at a time, like the keys.
"""

from __future__ import annotations

import asyncio
from typing import Any

from inhouse.errors import BadRequest, InvalidInput
from inhouse.gateway.programlog import ProgramLog
from inhouse.pilot.library import Library, PromptVersion, fold_library
from inhouse.program.state import ProgramState

__all__ = ["PromptSource"]

_SPEC_FIELDS = {"name", "label", "version", "variables"}


class PromptSource:
    """The prompt library as this gateway knows it, and what a request does with it."""

    def __init__(self, log: ProgramLog, *, second_person: bool = False) -> None:
        self.log = log
        self.second_person = second_person
        self.library = Library(second_person=second_person)
        self._seen: int | None = None  # the log's head when the library was last built

    def refresh(self) -> None:
        """Bring the log up to date and rebuild the library when it moved. Blocking: call it
        off the event loop."""
        library = self.log.read(self._rebuild)
        if library is not None:
            self.library = library

    def _rebuild(self, state: ProgramState) -> Library | None:
        if state.head_seq == self._seen:
            return None
        self._seen = state.head_seq
        return fold_library(state, second_person=self.second_person)

    async def reload(self) -> None:
        """Bring the library up to date (new versions, moved labels take effect)."""
        await asyncio.to_thread(self.refresh)

    def prepare(
        self, endpoint: str, body: dict[str, Any], header: str | None
    ) -> tuple[str | None, bool | None]:
        """Resolve the request's library prompt, render it into ``body`` when it asks for
        that, and return the id the usage log records (``NAME@VERSION``; None for none) and
        whether the client was sent that version: rendered here, or pinned by number in the
        header (None for no prompt)."""
        library = self.library
        named = pinned = None
        if header is not None:
            pinned = library.find(header)  # NAME@VERSION: the client chose this very version
            named = pinned or library.resolve(header, param=None)
        spec = body.get("prompt") if endpoint == "chat/completions" else None
        if spec is None:
            if named is None:
                return None, None
            return named.id, pinned is not None
        version = _version(library, spec)
        if named is not None and named.id != version.id:
            raise BadRequest(
                f"X-Inhouse-Prompt names {named.id}, but the body's prompt is {version.id}",
                param="prompt",
            )
        if body.get("messages"):
            raise BadRequest(
                "send messages or a library prompt for the gateway to render, not both (an "
                "empty messages list is fine)",
                param="messages",
            )
        variables = spec.get("variables")
        if variables is None:
            variables = {}
        if not isinstance(variables, dict):
            raise BadRequest("prompt.variables must be an object", param="prompt.variables")
        try:
            body["messages"] = version.messages(variables)
        except InvalidInput as err:
            raise BadRequest(str(err), param="prompt.variables") from None
        del body["prompt"]  # the runtime gets the messages, not the library's reference
        return version.id, True


def _version(library: Library, spec: Any) -> PromptVersion:
    """The version a body's ``prompt`` object names."""
    if not isinstance(spec, dict):
        raise BadRequest(
            'prompt must be an object: {"name": …, "label" or "version": …, "variables": {…}}',
            param="prompt",
        )
    unknown = sorted(set(spec) - _SPEC_FIELDS)
    if unknown:
        raise BadRequest(
            f"prompt.{unknown[0]} is not a field of a library prompt reference (name, label, "
            "version, variables)",
            param=f"prompt.{unknown[0]}",
        )
    name = spec.get("name")
    if not isinstance(name, str) or not name:
        raise BadRequest("prompt.name: the library prompt's name is missing", param="prompt.name")
    label, version = spec.get("label"), spec.get("version")
    if label is not None and version is not None:
        raise BadRequest("give prompt.label or prompt.version, not both", param="prompt")
    if version is not None:
        if isinstance(version, bool) or not str(version).isdigit():
            raise BadRequest("prompt.version must be a number", param="prompt.version")
        return library.resolve(f"{name}@{version}", param="prompt.version")
    if label is not None:
        if not isinstance(label, str):
            raise BadRequest("prompt.label must be a string", param="prompt.label")
        return library.resolve(f"{name}@{label}", param="prompt.label")
    return library.resolve(name, param="prompt.name")

"""One way to turn a pydantic validation error into a message that names the TOML field."""

from __future__ import annotations

from pydantic import ValidationError

__all__ = ["problems"]


def problems(err: ValidationError, where: str) -> str:
    """``where.field.sub: message; …`` for every error in ``err``."""
    found = []
    for e in err.errors():
        field = ".".join([where, *(str(p) for p in e["loc"])])
        hint = ""
        if e["type"] == "extra_forbidden" and isinstance(e["input"], dict):
            # [data_rules.models.llama-3.2-3b] is three nested tables in TOML
            hint = ' (a name with dots must be quoted, e.g. [data_rules.models."llama-3.2-3b"])'
        found.append(f"{field}: {e['msg']}{hint}")
    return "; ".join(found)

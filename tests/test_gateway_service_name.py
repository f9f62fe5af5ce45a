"""The gateway's name on the roster (the service whose key seals the usage rows and signs what is
measured from them) is spelled once, in :data:`inhouse.usage.authentic.GATEWAY_SERVICE`: a
second spelling could drift, and the gateway's facts would then be read under another name.
It lives below the gateway so the play packages name it without importing the gateway's
server."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import inhouse
from inhouse.gateway import rollup
from inhouse.usage.authentic import GATEWAY_SERVICE

_PACKAGE = Path(inhouse.__file__).parent


def _spellings() -> list[str]:
    """Module-level names bound to the literal ``"gateway"``, and service keys asked for by a
    literal name rather than the constant."""
    found = []
    for path in sorted(_PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(_PACKAGE).as_posix()
        for node in tree.body:
            value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
            if isinstance(value, ast.Constant) and value.value == "gateway":
                found.append(f"{where}:{node.lineno}")
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            literal = [a for a in node.args if isinstance(a, ast.Constant)]
            if name in ("as_service", "service_key", "read_service_key") and literal:
                found.append(f"{where}:{node.lineno} {name}({literal[0].value!r})")
    return found


def test_the_gateway_service_is_named_once() -> None:
    found = _spellings()
    assert [where.split(":")[0] for where in found] == ["usage/authentic.py"], found
    assert rollup.SERVICE == GATEWAY_SERVICE == "gateway"  # still importable where it was


def test_the_pilot_names_it_without_loading_the_gateway() -> None:
    code = (
        "import sys, inhouse.pilot.adoption, inhouse.pilot.library_views; "
        "print(sorted(m for m in sys.modules if m.startswith('inhouse.gateway')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

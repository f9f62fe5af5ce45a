"""Test aids that ship with inhouse, so benchmarks and other packages' tests can use them.

Everything here is a *stand-in*, and says so in its name: it imitates an upstream with exact,
injected behaviour (timings, faults). It never replaces a real model runtime in a test that is
about models; those use the real llama.cpp engine.
"""

__all__: list[str] = []

"""inhouse: run a local-LLM program as a playbook of plays, each exit checked against evidence."""

__version__ = "0.1.0"
__all__ = ["__version__"]

"""``python -m inhouse``: the same as the ``inhouse`` command."""

from inhouse.cli.app import main

main()

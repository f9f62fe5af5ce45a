"""``python -m inhouse.testing.standin_upstream``: the stand-in on its own."""

from inhouse.testing.standin_upstream.running import main

main()

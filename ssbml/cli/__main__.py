"""``python -m ssbml.cli``."""

from ssbml.cli import main

main()

"""``python -m ssbml``."""

from ssbml.cli import main

main()

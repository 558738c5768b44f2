"""`python -m newsarchive.cli`: the same as the `newsarchive` command."""

from newsarchive.cli import main

main()

"""``python -m sfbulk_sdk.cli``: the ``sfbulk`` command."""

from . import main

main()

"""The I/O shells: the client, its driver and the session manager.

The async package is written by hand; the sync package is generated from it by
``scripts/unasync.py`` (``make unasync``), and ``make test`` checks that the two agree.
"""

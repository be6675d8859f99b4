"""The ``mayday`` command: every subcommand (``server``, ``agents``, ``db``, ``device``, ``sim``,
``demo``) in one place, above the packages it starts.

It sits at the top of the house: it imports :mod:`server`, :mod:`device_agent` and :mod:`sim`,
and nothing imports it (``docs/architecture.md``).
"""

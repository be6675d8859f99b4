"""The browser flows: the agent console and the customer's web widget in a real Chromium.

Their fixtures are in conftest.py here, so they apply to this directory only (with the live state
in memory, once, rather than once per live store); console.py and widget.py hold the helpers.
"""

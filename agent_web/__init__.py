"""The agent console's browser files (plain ES modules, HTML, CSS), as package data.

No Python lives here: the package exists so that the wheel carries the console and the server
finds it where it was installed (:mod:`server.web_files`).
"""

"""``mayday forecast``: staffing per hour of a coming week from the desk's history.

:mod:`.history` reads the help requests (records or a sessions export), :mod:`.model` forecasts
arrivals per hour (statsmodels' Holt-Winters) and staffs each hour by Erlang C (:mod:`sim.erlang`),
:mod:`.cli` is the command. docs/forecast.md describes it for users.

Nothing is imported here: ``mayday --help`` registers :func:`.cli.add_arguments` and must not
load numpy and statsmodels for it.
"""

from __future__ import annotations

__all__: list[str] = []

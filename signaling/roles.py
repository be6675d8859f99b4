"""Account roles: what a signed-in person of the support team may do.

Three roles, each able to do everything of the one below it: an ``agent`` serves customers and
reads the sessions it took part in; a ``supervisor`` also reads every session, sees the live
desk (the wallboard), watches and joins sessions and exports reports; an ``admin`` also manages
accounts, sites and devices. A ladder rather than a set of permissions: a support team thinks
of people this way, and one comparison per check cannot be combined wrongly.

The role an account has is the one in the records at the moment of the check (every REST call
reads the account; a role change revokes the account's tokens, so its socket signs in again).
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["ACCOUNT_ROLES", "AccountRole", "at_least"]

AccountRole = Literal["agent", "supervisor", "admin"]
ACCOUNT_ROLES: tuple[AccountRole, ...] = get_args(AccountRole)
"""From the least to the most trusted."""


def at_least(role: str, needed: AccountRole) -> bool:
    """Whether ``role`` may do what ``needed`` may (an unknown role may do nothing)."""
    if role not in ACCOUNT_ROLES:
        return False
    return ACCOUNT_ROLES.index(role) >= ACCOUNT_ROLES.index(needed)

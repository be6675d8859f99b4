"""Bodies of the admin REST API (``/api/admin/...``, §19): accounts, sites and devices.

What an admin sends is as untrusted as anything else: the inbound models forbid unknown fields,
bound every string and list, and normalise what the CLI normalises (language codes and skills in
lower case, a display name's spaces collapsed), so an account made over REST is one the CLI could
have made. The answers never carry a password hash or a token generation.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, model_validator

from ..roles import AccountRole
from .base import Id, Inbound, Name, Outbound, Timestamp
from .session import CustomerKind

__all__ = [
    "AdminAccount",
    "AdminAccountChange",
    "AdminAccountCreate",
    "AdminAccounts",
    "AdminDevice",
    "AdminDevices",
    "AdminOk",
    "AdminSite",
    "AdminSiteCreate",
    "AdminSites",
]


def _unique(items: list[str]) -> list[str]:
    """Each item once, in the order given."""
    return list(dict.fromkeys(items))


def _collapse_spaces(value: Any) -> Any:
    """A text trimmed, each run of white space one space (as ``mayday agents add``)."""
    return " ".join(value.split()) if isinstance(value, str) else value


LanguageCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z]{2,3}$"),
    AfterValidator(str.lower),
]
"""A language as agents list theirs (``de``, ``en``): the part of a customer's locale before the
dash, which routing compares; stored in lower case, as ``mayday agents add --languages``."""
Skill = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"),
    AfterValidator(str.lower),
]
"""A topic the agent handles (``kindle``), as help requests name theirs; stored in lower case."""
Languages = Annotated[
    list[LanguageCode],
    Field(max_length=32, description="Language codes such as `de`, `en`; none: takes any."),
    AfterValidator(_unique),
]
Skills = Annotated[
    list[Skill],
    Field(max_length=64, description="Topics the agent handles (`kindle`); none: takes any."),
    AfterValidator(_unique),
]
DisplayName = Annotated[
    str, StringConstraints(min_length=1, max_length=80), BeforeValidator(_collapse_spaces)
]
"""What customers see (``Anna K.``): trimmed, runs of spaces made one, then 1 to 80 characters."""
Password = Annotated[str, StringConstraints(min_length=8, max_length=1024)]
Origin = Annotated[str, StringConstraints(min_length=1, max_length=300)]


class AdminAccountCreate(Inbound):
    """``POST /api/admin/agents``: a new account, as ``mayday agents add``."""

    name: Name = Field(description="The sign-in name, unique.")
    password: Password
    languages: Languages = ["en"]
    skills: Skills = []
    display_name: DisplayName | None = Field(
        default=None, description="What customers see; none: the sign-in name."
    )
    role: AccountRole = "agent"


class AdminAccountChange(Inbound):
    """``PATCH /api/admin/agents/{name}``: only the fields sent change.

    ``display_name: null`` clears the display name; no other field may be ``null``. A new role or
    password signs the account out everywhere; the other fields apply from its next sign-in.
    """

    role: AccountRole | None = None
    display_name: DisplayName | None = Field(
        default=None, description="`null`: customers see the sign-in name again."
    )
    languages: Languages | None = None
    skills: Skills | None = None
    password: Password | None = None

    @model_validator(mode="before")
    @classmethod
    def _something_and_no_null(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if not data:
            raise ValueError("send at least one of role, display_name, languages, skills, password")
        nulls = sorted(
            key for key, value in data.items() if value is None and key != "display_name"
        )
        if nulls:
            raise ValueError(
                f"{', '.join(map(str, nulls))} cannot be null; leave it out to keep it"
            )
        return data


class AdminAccount(Outbound):
    """An account as the admin API shows it: never its password hash."""

    id: Id
    name: str
    display_name: str | None = Field(description="null: customers see the sign-in name.")
    role: AccountRole
    languages: list[str]
    skills: list[str]
    created_at: Timestamp


class AdminAccounts(Outbound):
    """``GET /api/admin/agents``: every account, by name."""

    agents: list[AdminAccount]


class AdminSiteCreate(Inbound):
    """``POST /api/admin/sites``: a site whose pages embed the widget, as ``mayday sites add``."""

    name: Name = Field(description="Unique.")
    origins: Annotated[list[Origin], Field(min_length=1, max_length=20)] = Field(
        description="`scheme://host[:port]` its pages are served from, e.g. "
        "`https://shop.example`; stored as browsers write them in `Origin`, each once."
    )


class AdminSite(Outbound):
    id: Id
    name: str
    key: str = Field(description="The public key for the widget's `data-site-key`.")
    origins: list[str]
    created_at: Timestamp


class AdminSites(Outbound):
    """``GET /api/admin/sites``: every site, by name."""

    sites: list[AdminSite]


class AdminDevice(Outbound):
    """A registered device, or a web visitor (``kind`` ``web``) of the site ``site_id``."""

    id: Id
    name: str
    kind: CustomerKind
    site_id: str | None
    created_at: Timestamp


class AdminDevices(Outbound):
    """``GET /api/admin/devices``: one page, newest first, and how many there are in all."""

    devices: list[AdminDevice]
    total: int = Field(ge=0, description="Every device of the kind asked for, not just this page.")


class AdminOk(Outbound):
    """``{"ok": true}``: done."""

    ok: Literal[True]

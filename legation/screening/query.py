"""A screening query, checked field by field: the one validation of every way in.

The API, the dashboard, the CLI (one name, a batch file, stored subjects) and the pairs
contract build their queries here, so the same input is refused with the same message.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from legation.domain.clock import utcnow
from legation.domain.countries import country_code
from legation.errors import InputError
from legation.screening.matcher import Subject
from legation.screening.normalise import identifies

# the schemata a query may name (the matcher compares these; others are refused, not ignored)
SCHEMATA = ("Person", "Organization", "Company", "PublicBody", "LegalEntity", "Vessel", "Airplane")
_SCHEMA_BY_LOWER = {s.lower(): s for s in SCHEMATA}
MAX_NAME_CHARS = 1000
MAX_IDENTIFIERS = 20
MAX_IDENTIFIER_CHARS = 100
MAX_BIRTH_DATE_CHARS = 32
MAX_COUNTRY_CHARS = 100
MAX_SCHEMA_CHARS = 40
SHOWN_CHARS = 80


def shorten(value: object, limit: int = SHOWN_CHARS) -> str:
    """``repr`` of a value for an error message, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _too_long(field_: str, value: str, limit: int) -> InputError:
    return InputError(f"{field_} is {len(value)} characters long; at most {limit} are accepted")


@dataclass
class Query:
    """A screening query; built only valid (``InputError`` names the bad field)."""

    name: str
    schema: str = "LegalEntity"
    birth_date: str | None = None
    country: str | None = None
    identifiers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.name = self.name.strip()
        if not self.name:
            raise InputError("name is empty")
        if len(self.name) > MAX_NAME_CHARS:
            raise _too_long("name", self.name, MAX_NAME_CHARS)
        if not identifies(self.name):
            raise InputError(
                f"name {shorten(self.name)} has nothing to screen: no part with letters other "
                f"than particles, titles or single letters"
            )
        schema = self.schema.strip()
        if len(schema) > MAX_SCHEMA_CHARS or schema.lower() not in _SCHEMA_BY_LOWER:
            raise InputError(
                f"schema {shorten(schema)} is not supported; use one of {', '.join(SCHEMATA)}"
            )
        self.schema = _SCHEMA_BY_LOWER[schema.lower()]
        if self.birth_date is not None:
            self.birth_date = self.birth_date.strip() or None
        if self.birth_date:
            if len(self.birth_date) > MAX_BIRTH_DATE_CHARS:
                raise _too_long("birth_date", self.birth_date, MAX_BIRTH_DATE_CHARS)
            if not _plausible_date(self.birth_date):
                raise InputError(
                    f"birth_date {shorten(self.birth_date)} is not YYYY, YYYY-MM or YYYY-MM-DD "
                    f"between 1850 and today"
                )
        if self.country is not None:
            self.country = _country(self.country)
        if len(self.identifiers) > MAX_IDENTIFIERS:
            raise InputError(
                f"identifiers: {len(self.identifiers)} given; at most {MAX_IDENTIFIERS} accepted"
            )
        cleaned = []
        for number, identifier in enumerate(self.identifiers, start=1):
            if not isinstance(identifier, str):
                raise InputError(f"identifiers item {number} is not a string")
            if len(identifier.strip()) > MAX_IDENTIFIER_CHARS:
                raise _too_long(
                    f"identifiers item {number}", identifier.strip(), MAX_IDENTIFIER_CHARS
                )
            if identifier.strip():
                cleaned.append(identifier.strip())
        self.identifiers = tuple(cleaned)

    @classmethod
    def from_fields(cls, raw: Mapping[str, Any]) -> Query:
        """A query from loosely typed fields (an API body item, a CSV or JSONL line)."""

        def text(field_: str, required: bool = False) -> str | None:
            value = raw.get(field_)
            if value is None or value == "":
                if required:
                    raise InputError(f"{field_} is missing or empty")
                return None
            if isinstance(value, int) and not isinstance(value, bool) and field_ == "birth_date":
                return str(value)  # a year given as a number
            if not isinstance(value, str):
                raise InputError(f"{field_} must be a string, not {type(value).__name__}")
            return value

        ids = raw.get("identifiers")
        if ids is None or ids == "":
            identifiers: tuple[str, ...] = ()
        elif isinstance(ids, str):
            identifiers = tuple(i for i in ids.split(";") if i.strip())  # CSV: a;b;c
        elif isinstance(ids, list):
            identifiers = tuple(ids)
        else:
            raise InputError(f"identifiers must be a list of strings, not {type(ids).__name__}")
        return cls(
            text("name", required=True) or "",
            text("schema") or "LegalEntity",
            text("birth_date"),
            text("country"),
            identifiers,
        )

    def subject(self) -> Subject:
        return Subject.build(
            "query",
            self.schema,
            [self.name],
            birth_dates=[self.birth_date] if self.birth_date else [],
            countries=[self.country] if self.country else [],
            identifiers=self.identifiers,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "schema": self.schema,
            "birth_date": self.birth_date,
            "country": self.country,
            "identifiers": list(self.identifiers),
        }

    def key(self) -> str:
        """What a whitelisting is tied to: every field that can change the results."""
        parts = [
            " ".join(self.name.lower().split()),
            self.birth_date or "",
            self.country or "",
            self.schema,
            ",".join(sorted(i.upper() for i in self.identifiers)),
        ]
        return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _country(value: str) -> str | None:
    """An ISO 3166-1 alpha-2 code or a country name -> the lower-case code."""
    cleaned = value.strip()
    if not cleaned:
        return None
    if len(cleaned) > MAX_COUNTRY_CHARS:
        raise _too_long("country", cleaned, MAX_COUNTRY_CHARS)
    code = country_code(cleaned)
    if code is None:
        raise InputError(
            f"country {shorten(cleaned)} is neither an ISO 3166-1 alpha-2 code nor a country name"
        )
    return code.lower()


def _plausible_date(value: str) -> bool:
    found = re.fullmatch(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", value)
    if not found:
        return False
    year = int(found.group(1))
    if not 1850 <= year <= utcnow().year:
        return False
    try:
        date(year, int(found.group(2) or 1), int(found.group(3) or 1))
    except ValueError:
        return False
    return True

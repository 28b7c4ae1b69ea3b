"""Country names (as registries write them) to ISO 3166-1 alpha-2 codes."""

from __future__ import annotations

from functools import cache

import pycountry

from legation.domain.vocab import read_data_file

# Registry spellings that neither pycountry nor our aliases resolve.
_EXTRA = {
    "people's republic of china": "CN",
    "kingdom of the netherlands": "NL",
    "state of palestine": "PS",
    "republic of the congo": "CG",
    "the gambia": "GM",
    "democratic republic of the congo": "CD",
    "holy see": "VA",
    "vatican city": "VA",
    "federated states of micronesia": "FM",
    "the bahamas": "BS",
    "east timor": "TL",
    "republic of ireland": "IE",
    "kingdom of denmark": "DK",
    "ivory coast": "CI",
    "cape verde": "CV",
    "eswatini": "SZ",
    "swaziland": "SZ",
    "sahrawi arab democratic republic": "EH",
    "vatican": "VA",
    "turkey": "TR",
    "russia": "RU",
    "south korea": "KR",
    "north korea": "KP",
    "laos": "LA",
    "kosovo": "XK",
    "taiwan": "TW",
    "republic of china": "TW",
    "syria": "SY",
    "iran": "IR",
    "vietnam": "VN",
    "brunei": "BN",
    "bolivia": "BO",
    "venezuela": "VE",
    "moldova": "MD",
    "tanzania": "TZ",
    "czech republic": "CZ",
    "macedonia": "MK",
    "north macedonia": "MK",
    "united states": "US",
    "united states of america": "US",
    "united kingdom": "GB",
    "georgia": "GE",
    "micronesia": "FM",
    "são tomé and príncipe": "ST",
    "palestine": "PS",
}


@cache
def _aliases() -> dict[str, str]:
    table = {name.lower(): code for name, code in _EXTRA.items()}
    data = read_data_file("countries.yaml")
    for code, names in data["aliases"].items():
        for name in names:
            table.setdefault(str(name).lower(), str(code))
    return table


@cache
def country_code(name: str) -> str | None:
    """'Russia' -> 'RU'; None for bodies that are not countries ('European Union')."""
    cleaned = name.strip()
    if not cleaned:
        return None
    if len(cleaned) == 2 and cleaned.isalpha():
        found = pycountry.countries.get(alpha_2=cleaned.upper())
        return str(found.alpha_2) if found else None
    alias = _aliases().get(cleaned.lower())
    if alias:
        return alias
    try:
        return str(pycountry.countries.lookup(cleaned).alpha_2)
    except LookupError:
        return None


@cache
def country_name(code: str) -> str:
    """The English name of the ISO 3166-1 alpha-2 ``code`` (the code itself if unknown)."""
    found = pycountry.countries.get(alpha_2=code.upper())
    return str(getattr(found, "common_name", None) or found.name) if found else code

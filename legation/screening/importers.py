"""Official sanctions list formats -> FollowTheMoney entities, one clear error per bad record.

Every parser takes the raw bytes of a publication and returns an ``Imported``: the entities
it could read and the errors (naming the record) for those it could not. A broken file as a
whole (not XML, wrong columns) raises ``ListFormatError`` so that an update never replaces a
good list version with a broken one.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

from followthemoney import model
from followthemoney.proxy import EntityProxy

from legation.domain.clock import utcnow
from legation.errors import InputError

MAX_FIELD_CHARS = 2_000
MAX_NOTE_CHARS = 200
# warnings about the record being read (a cut field, a dropped date): kept with the record
_NOTES: ContextVar[list[str] | None] = ContextVar("legation_import_notes", default=None)


class ListFormatError(InputError):
    """A list publication that cannot be read at all."""


@dataclass
class Imported:
    entities: list[EntityProxy] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _clean(value: str | None) -> str:
    if value is None:
        return ""
    value = " ".join(value.split())
    return "" if value in {"-0-", "-0"} else value


def _note(message: str) -> None:
    notes = _NOTES.get()
    if notes is not None:
        notes.append(message[:MAX_NOTE_CHARS])


def _add(entity: EntityProxy, prop: str, value: str | None) -> None:
    text = _clean(value)
    if not text:
        return
    if len(text) > MAX_FIELD_CHARS:
        _note(f"{prop} of {len(text)} characters cut to {MAX_FIELD_CHARS}")
        text = text[:MAX_FIELD_CHARS]
    entity.add(prop, text, quiet=True, fuzzy=prop in {"nationality", "citizenship", "country"})


_ISO = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def _valid_iso(value: str) -> bool:
    found = _ISO.fullmatch(value)
    if not found or not 1800 <= int(found.group(1)) <= 2100:
        return False
    try:
        date(int(found.group(1)), int(found.group(2) or 1), int(found.group(3) or 1))
    except ValueError:
        return False
    return True


def _in_future(value: str) -> bool:
    """An ISO date or prefix (YYYY, YYYY-MM) that starts after today: no one's birth date."""
    today = utcnow().date().isoformat()
    return value > today[: len(value)]


def _add_dates(
    entity: EntityProxy, raw: str, parse: Callable[[str], list[str] | str] | None = None
) -> None:
    """Birth dates from ``raw``; an unreadable one is dropped with a note, not the record."""
    raw = _clean(raw)
    if not raw:
        return
    try:
        parsed = parse(raw) if parse is not None else [raw]
    except ValueError as exc:
        _note(f"birth date dropped: {exc}")
        return
    for value in [parsed] if isinstance(parsed, str) else parsed:
        if _valid_iso(value) and _in_future(value):
            _note(f"birth date dropped: {value!r} is after today")
        elif _valid_iso(value):
            _add(entity, "birthDate", value)
        else:
            _note(f"birth date dropped: {value[:40]!r} is not a date")


def _read(result: Imported, label: str, build: Callable[[], EntityProxy]) -> None:
    """One record into ``result``: the entity with its notes, or one error naming it."""
    notes: list[str] = []
    token = _NOTES.set(notes)
    try:
        entity = build()
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        result.errors.append(f"{label}: {exc}"[: MAX_NOTE_CHARS * 2])
        return
    finally:
        _NOTES.reset(token)
    result.entities.append(entity)
    result.errors.extend(f"{label}: {note} (record kept)" for note in notes)


def _make(schema: str, entity_id: str) -> EntityProxy:
    entity = model.make_entity(schema)
    entity.id = entity_id
    entity.add("topics", "sanction", quiet=True)
    return entity


def _finish(entity: EntityProxy, label: str) -> EntityProxy:
    if not entity.get("name"):
        raise ValueError(f"{label}: no name")
    return entity


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252 as the older list files use."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


# appended to a CSV file while reading it: it comes back as a row of its own unless the file
# ends inside a quoted field (then it is read as part of that field)
_END = "\ufdd0end of file\ufdd0"


class CheckedCsv:
    """``csv.reader`` over a whole file that refuses a file cut short once it reaches the end.

    A download that stopped early leaves the last row inside a quoted field, or (no final
    newline) with fewer fields than a row has: either is a ``ListFormatError`` for the file,
    so a cut file never becomes a list version with its last entries missing or wrong.
    ``width`` is the number of fields of a complete row (set it once the header is read).
    """

    def __init__(self, text: str, label: str, width: int = 0, **fmt: Any) -> None:
        self.label = label
        self.width = width
        self._unfinished = not text.rstrip("\x1a").endswith(("\n", "\r"))
        self._reader = csv.reader(io.StringIO(f"{text}\n{_END}\n"), **fmt)
        self._last: list[str] | None = None
        self._last_line = 0

    @property
    def line_num(self) -> int:
        return self._reader.line_num

    def __iter__(self) -> CheckedCsv:
        return self

    def __next__(self) -> list[str]:
        start = self._reader.line_num + 1
        try:
            row = next(self._reader)
        except StopIteration:
            raise ListFormatError(
                f"{self.label}: the file ends inside a quoted field (line {self._last_line}); "
                "was the download cut short?"
            ) from None
        if row == [_END]:
            last = self._last
            if self._unfinished and last is not None and len(last) < self.width:
                raise ListFormatError(
                    f"{self.label}: the file ends in the middle of line {self._last_line} "
                    f"({len(last)} of {self.width} columns, no final newline); "
                    "was the download cut short?"
                )
            raise StopIteration
        if any(c.strip() and c.strip() != "\x1a" for c in row):
            self._last, self._last_line = row, start
        return row


# ---------------------------------------------------------------------------------------
# UN Security Council consolidated list (XML)

_UN_ALIAS_PROP = {"good": "alias", "a.k.a.": "alias", "low": "weakAlias", "f.k.a.": "previousName"}


def parse_un_xml(data: bytes) -> Imported:
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ListFormatError(f"UN list: not well-formed XML ({exc})") from exc
    if root.tag != "CONSOLIDATED_LIST":
        raise ListFormatError(f"UN list: root element is {root.tag!r}, not CONSOLIDATED_LIST")
    result = Imported()
    for kind, schema in (("INDIVIDUAL", "Person"), ("ENTITY", "Organization")):
        for node in root.iter(kind):
            ref = _clean(node.findtext("REFERENCE_NUMBER")) or _clean(node.findtext("DATAID"))
            label = f"UN {kind.lower()} {ref[:100] or '?'}"
            _read(result, label, partial(_un_record, node, kind, schema, ref))
    return result


def _un_record(node: ET.Element, kind: str, schema: str, ref: str) -> EntityProxy:
    if not ref:
        raise ValueError("no REFERENCE_NUMBER or DATAID")
    entity = _make(schema, f"un-{ref}")
    parts = [_clean(node.findtext(t)) for t in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME")]
    parts.append(_clean(node.findtext("FOURTH_NAME")))
    _add(entity, "name", " ".join(p for p in parts if p))
    original = _clean(node.findtext("NAME_ORIGINAL_SCRIPT"))
    _add(entity, "name", original)
    for alias in node.iter(f"{kind}_ALIAS"):
        quality = _clean(alias.findtext("QUALITY")).lower()
        prop = _UN_ALIAS_PROP.get(quality, "alias")
        for name in _clean(alias.findtext("ALIAS_NAME")).split(";"):
            _add(entity, prop, name)
    _add(entity, "notes", node.findtext("COMMENTS1"))
    _add(entity, "program", node.findtext("UN_LIST_TYPE"))
    _add(entity, "createdAt", node.findtext("LISTED_ON"))
    for value in node.findall("NATIONALITY/VALUE"):
        _add(entity, "nationality", value.text)
    if schema == "Person":
        _add(entity, "gender", _clean(node.findtext("GENDER")).lower())
        for value in node.findall("TITLE/VALUE"):
            _add(entity, "title", value.text)
        for dob in node.iter("INDIVIDUAL_DATE_OF_BIRTH"):
            for when in _un_dates(dob):
                _add_dates(entity, when)
        for pob in node.iter("INDIVIDUAL_PLACE_OF_BIRTH"):
            place = [_clean(pob.findtext(t)) for t in ("CITY", "STATE_PROVINCE", "COUNTRY")]
            _add(entity, "birthPlace", ", ".join(p for p in place if p))
        for doc in node.iter("INDIVIDUAL_DOCUMENT"):
            number = _clean(doc.findtext("NUMBER"))
            kind_text = _clean(doc.findtext("TYPE_OF_DOCUMENT")).lower()
            _add(entity, "passportNumber" if "passport" in kind_text else "idNumber", number)
    for address in node.iter(f"{kind}_ADDRESS"):
        _add(entity, "country", address.findtext("COUNTRY"))
    return _finish(entity, f"UN {ref}")


def _un_dates(dob: ET.Element) -> list[str]:
    kind = _clean(dob.findtext("TYPE_OF_DATE")).upper()
    exact = _clean(dob.findtext("DATE"))
    year = _clean(dob.findtext("YEAR"))
    if kind == "BETWEEN":
        start, end = _clean(dob.findtext("FROM_YEAR")), _clean(dob.findtext("TO_YEAR"))
        if start.isdigit() and end.isdigit() and 0 <= int(end) - int(start) <= 20:
            return [str(y) for y in range(int(start), int(end) + 1)]
        return [v for v in (start, end) if v]
    return [exact[:10]] if exact else ([year] if year else [])


# ---------------------------------------------------------------------------------------
# OFAC SDN legacy CSV set

_OFAC_SCHEMA = {
    "individual": "Person",
    "vessel": "Vessel",
    "aircraft": "Airplane",
    "": "Organization",
}
_OFAC_ALIAS_PROP = {"aka": "alias", "nka": "alias", "fka": "previousName"}
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, start=1)}
# a weak a.k.a. in single quotes, which it may hold too ('ABU-'UMAR'): closed by the quote
# that ends the item (before ';', '.' or the end)
_WEAK = re.compile(r"a\.k\.a\.\s+'([^;]+?)'(?=\s*(?:[;.]|$))")
_DOB = re.compile(r"^(?:alt\.\s+)?DOB\s+(?:circa\s+)?(.+?)$", re.IGNORECASE)
_ID_KINDS = (
    "Passport", "National ID No.", "Identification Number", "Cedula No.", "D.N.I.", "SSN",
    "Tax ID No.", "C.U.I.T.", "RFC", "CURP", "NIT #", "Registration ID", "Residency Number",
    "Personal ID Card", "Driver's License No.", "Vessel Registration Identification",
    "Citizen's Card Number", "Birth Certificate Number", "Registration Number",
    "Public Security and Immigration No.",
)  # fmt: skip
# an issue or expiry date in a document item: '21 Jun 1992', 'Jan 2007', '1990', or a span
_DOC_DATE = r"(?:\d{1,2}\s+)?(?:[A-Za-z]{3}\s+)?\d{4}"
_DOC_DATES = rf"{_DOC_DATE}(?:\s+to\s+{_DOC_DATE})?"
# 'Passport 27082171 (United States) issued 21 Jun 1992 expires 20 Jun 2002': the number may
# carry a bracket glued to it ('D489833(9)', '(HWI)040182') and follow a label ('Booklet:');
# a qualifier (', Diplomatic') and a region may come before the issuer
_ID = re.compile(
    r"^(?:alt\.\s+)?("
    + "|".join(re.escape(k) for k in _ID_KINDS)
    + r")\s+(?:[A-Za-z]{1,12}:\s*)?("
    + r"(?:(?!\s(?:issued|expires|and)\b)(?:[^(),:]|(?<=\S)\(\w{1,5}\)|\(\w{1,5}\)(?=\S)))+?)"
    + r"(?:,\s*[A-Za-z]+)?(?:\s+(?:\([^()]*\)\s*)?\(([^()]*)\))?"
    + rf"(?:,?\s+issued\s+({_DOC_DATES}))?(?:,?\s+expires\s+({_DOC_DATES}))?$"
)
_ID_KIND = re.compile(r"^(?:alt\.\s+)?(?:" + "|".join(re.escape(k) for k in _ID_KINDS) + r")\s")


def parse_ofac_dates(text: str) -> list[str]:
    """'26 Dec 1992', 'Dec 1960', '1962', '1960 to 1962' -> ISO prefixes (ranges by year)."""
    text = text.strip().rstrip(".")
    span = re.fullmatch(r"(?:.*?\b)?(\d{4})\s*(?:to|-)\s*(?:.*?\b)?(\d{4})", text)
    if span:
        start, end = int(span.group(1)), int(span.group(2))
        if 0 <= end - start <= 20:
            return [str(y) for y in range(start, end + 1)]
        raise ValueError(f"birth date range {text!r} is implausible")
    full = re.fullmatch(r"(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})", text)
    if full and full.group(2).lower() in _MONTHS:
        day, month, year = int(full.group(1)), _MONTHS[full.group(2).lower()], int(full.group(3))
        try:
            return [date(year, month, day).isoformat()]
        except ValueError:
            raise ValueError(f"{text!r} is not a date") from None
    month_year = re.fullmatch(r"([A-Za-z]{3})\s+(\d{4})", text)
    if month_year and month_year.group(1).lower() in _MONTHS:
        return [f"{month_year.group(2)}-{_MONTHS[month_year.group(1).lower()]:02d}"]
    year_only = re.fullmatch(r"(\d{4})", text)
    if year_only:
        return [year_only.group(1)]
    raise ValueError(f"unreadable birth date {text!r}")


def parse_ofac_remarks(entity: EntityProxy, remarks: str) -> list[str]:
    """Birth dates, nationality, documents, gender and weak aliases out of OFAC Remarks."""
    problems: list[str] = []
    for name in _WEAK.findall(remarks):
        _add(entity, "weakAlias", name)
    for item in remarks.split(";"):
        item = item.strip().rstrip(".").strip()
        if not item:
            continue
        dob = _DOB.match(item)
        if dob and entity.schema.is_a("Person"):
            try:
                for value in parse_ofac_dates(dob.group(1)):
                    _add_dates(entity, value)
            except ValueError as exc:
                problems.append(f"birth date dropped: {exc}")
            continue
        lowered = item.lower()
        for prefix, prop in (("nationality ", "nationality"), ("citizen ", "citizenship")):
            starts = lowered.startswith(prefix) or lowered.startswith("alt. " + prefix)
            if starts and entity.schema.is_a("Person"):
                _add(entity, prop, item.split(prefix.strip(), 1)[1].strip())
        if lowered.startswith("gender ") and entity.schema.is_a("Person"):
            _add(entity, "gender", lowered.split(" ", 1)[1])
        if lowered.startswith("pob ") and entity.schema.is_a("Person"):
            _add(entity, "birthPlace", item[4:])
        found = _ID.match(item)
        if found:
            kind, number, country = found.group(1, 2, 3)
            prop = "passportNumber" if kind == "Passport" else "idNumber"
            if not entity.schema.get(prop):
                prop = "registrationNumber"
            _add(entity, prop, number)
            _add(entity, "country", country)  # the issuer: a tie to that country
        elif _ID_KIND.match(item):
            problems.append(f"document not read: {item[:80]!r}")
    return problems


def _read_headless_csv(data: bytes, label: str, columns: int, errors: list[str]) -> list[list[str]]:
    """The rows with enough columns; a short row is one error; no good row at all: the file."""
    rows = []
    short: list[str] = []
    for number, row in enumerate(CheckedCsv(decode(data), label, columns), start=1):
        if not row or (len(row) == 1 and not row[0].strip()) or row[0].strip() == "\x1a":
            continue
        if len(row) < columns:
            short.append(f"{label} line {number}: {len(row)} columns, expected {columns}")
            continue
        rows.append([_clean(c) for c in row])
    if short and not rows:
        raise ListFormatError(short[0])
    errors.extend(short)
    return rows


def parse_ofac_csv(
    sdn: bytes, alt: bytes = b"", add: bytes = b"", comments: bytes = b""
) -> Imported:
    result = Imported()
    errors = result.errors
    alts: dict[str, list[list[str]]] = defaultdict(list)
    for row in _read_headless_csv(alt, "alt.csv", 4, errors) if alt else []:
        alts[row[0]].append(row)
    countries: dict[str, list[str]] = defaultdict(list)
    for row in _read_headless_csv(add, "add.csv", 5, errors) if add else []:
        countries[row[0]].append(row[4])
    extra: dict[str, str] = {}
    for row in _read_headless_csv(comments, "sdn_comments.csv", 2, errors) if comments else []:
        extra[row[0]] = row[1]
    for row in _read_headless_csv(sdn, "sdn.csv", 12, errors):
        ent_num = row[0]
        _read(
            result,
            f"OFAC SDN {ent_num[:100]}",
            partial(_ofac_record, row, alts[ent_num], countries[ent_num], extra.get(ent_num, "")),
        )
    return result


def ofac_name(raw: str, schema: str) -> str:
    """'AL ZAWAHIRI, Dr. Ayman' -> 'Dr. Ayman AL ZAWAHIRI' for persons."""
    if schema == "Person" and raw.count(",") == 1:
        last, first = (p.strip() for p in raw.split(","))
        return f"{first} {last}".strip()
    return raw


def _ofac_record(
    row: list[str], alts: list[list[str]], countries: list[str], extra: str
) -> EntityProxy:
    ent_num, raw_name, kind, program = row[0], row[1], row[2].lower(), row[3]
    if not ent_num.isdigit():
        raise ValueError(f"entry number {ent_num!r} is not a number")
    if kind not in _OFAC_SCHEMA:
        raise ValueError(f"unknown SDN type {kind!r}")
    schema = _OFAC_SCHEMA[kind]
    entity = _make(schema, f"ofac-{ent_num}")
    _add(entity, "name", ofac_name(raw_name, schema))
    _add(entity, "program", program)
    if schema == "Person":
        _add(entity, "title", row[4])
    for alt in alts:
        prop = _OFAC_ALIAS_PROP.get(alt[2].lower(), "alias")
        _add(entity, prop, ofac_name(alt[3], schema))
    for country in countries:
        _add(entity, "country", country)
    remarks = row[11] + (" " + extra if extra else "")
    _add(entity, "notes", remarks[:MAX_FIELD_CHARS])
    for problem in parse_ofac_remarks(entity, remarks):
        _note(problem)
    return _finish(entity, f"OFAC {ent_num}")


# ---------------------------------------------------------------------------------------
# EU Financial Sanctions Files, CSV 1.0 (semicolon-separated, one row per entity x detail)


# every column _eu_record reads; a header without one of them is not the EU format
EU_COLUMNS = (
    "Entity_logical_id", "Subject_type", "Programme", "Naal_wholename", "Naal_firstname",
    "Naal_middlename", "Naal_lastname", "Birt_date", "Citi_country", "Iden_number",
    "Addr_country",
)  # fmt: skip


def _eu_line(raw: str) -> str:
    """One line; some publications quote a whole line and double the quotes inside it."""
    line = raw.strip()
    if len(line) >= 2 and line[0] == '"' and line[-1] == '"':
        inner = line[1:-1]
        if '"' not in inner.replace('""', ""):
            line = inner.replace('""', '"')
    return line.strip().rstrip("\t")


def _eu_rows(text: str) -> list[tuple[int, list[str]]]:
    rows = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _eu_line(raw)
        if line:
            rows.append((number, next(csv.reader([line], delimiter=";"))))
    return rows


def parse_eu_csv(data: bytes) -> Imported:
    text = decode(data)
    rows = _eu_rows(text)
    header = [c.strip() for c in rows[0][1]] if rows else []
    missing = [c for c in EU_COLUMNS if c not in header]
    if missing:
        raise ListFormatError(f"EU list: header lacks the columns {', '.join(missing)}")
    if len(rows) > 1:  # a line is a row: a cut file shows in its last line
        number, last = rows[-1]
        line = _eu_line(text.splitlines()[number - 1])
        if list(csv.reader([line, _END], delimiter=";"))[-1] != [_END]:
            raise ListFormatError(
                f"EU list: the file ends inside a quoted field (line {number}); "
                "was the download cut short?"
            )
        if not text.endswith(("\n", "\r")) and len(last) < len(header):
            raise ListFormatError(
                f"EU list: the file ends in the middle of line {number} ({len(last)} of "
                f"{len(header)} columns, no final newline); was the download cut short?"
            )
    index = {name: header.index(name) for name in header}  # first occurrence wins
    result = Imported()
    groups: dict[str, list[list[str]]] = defaultdict(list)
    for number, row in rows[1:]:
        if len(row) < len(header) - 5:
            result.errors.append(f"EU line {number}: {len(row)} columns, header has {len(header)}")
            continue
        groups[_clean(row[index["Entity_logical_id"]])].append(row)
    for key, members in groups.items():
        _read(result, f"EU entity {key[:100]}", partial(_eu_record, key, members, index))
    return result


def _col(row: list[str], index: dict[str, int], name: str) -> str:
    i = index[name]
    return _clean(row[i]) if i < len(row) else ""


def _eu_record(key: str, rows: list[list[str]], index: dict[str, int]) -> EntityProxy:
    if not key.isdigit():
        raise ValueError(f"entity id {key[:40]!r} is not a number")
    kind = _col(rows[0], index, "Subject_type")
    schema = {"P": "Person", "E": "Organization"}.get(kind)
    if schema is None:
        raise ValueError(f"unknown subject type {kind!r}")
    entity = _make(schema, f"eu-{key}")
    names: list[str] = []
    for row in rows:
        whole = _col(row, index, "Naal_wholename")
        if not whole:
            parts = ("Naal_firstname", "Naal_middlename", "Naal_lastname")
            whole = " ".join(p for p in (_col(row, index, c) for c in parts) if p)
        if whole and whole not in names:
            names.append(whole)
        _add(entity, "program", _col(row, index, "Programme"))
        if schema == "Person":
            birth = _col(row, index, "Birt_date")
            if birth and birth.upper() != "N/A":
                _add_dates(entity, birth, _eu_date)
            _add(entity, "nationality", _col(row, index, "Citi_country"))
            _add(entity, "idNumber", _col(row, index, "Iden_number").split(" (")[0])
        _add(entity, "country", _col(row, index, "Addr_country"))
    for i, name in enumerate(names):
        _add(entity, "name" if i == 0 else "alias", name)
    return _finish(entity, f"EU {key}")


def _eu_date(value: str) -> str:
    found = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value)
    if not found:
        raise ValueError(f"unreadable birth date {value[:40]!r}")
    year, month, day = found.groups()
    if month == "00":
        return year
    if day == "00":
        return f"{year}-{month}"
    return date(int(year), int(month), int(day)).isoformat()


# ---------------------------------------------------------------------------------------
# UK: the former HM Treasury / OFSI ConList.csv

_UK_SCHEMA = {"individual": "Person", "entity": "Organization", "ship": "Vessel"}


def parse_uk_conlist(data: bytes) -> Imported:
    text = decode(data)
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines[:5]) if "Name 6" in line), None)
    if start is None:
        raise ListFormatError("UK ConList: header with 'Name 6' not found in the first lines")
    ending = "\n" if text.endswith(("\n", "\r")) else ""
    reader = CheckedCsv("\n".join(lines[start:]) + ending, "UK ConList")
    header = next(reader)
    reader.width = len(header)
    if header and not header[0].strip():
        header = header[1:]  # the published sample carries an empty leading header cell
    result = Imported()
    rows = (
        (number, dict(zip(header, cells, strict=False)))
        for number, cells in enumerate(reader, start=start + 2)
        if any(c.strip() for c in cells)
    )
    _read_grouped(result, rows, ("Group ID", "Group ID"), "UK ConList", _uk_record, "group ")
    return result


def _read_grouped(
    result: Imported,
    rows: Iterable[tuple[int, dict[str, str]]],
    key: tuple[str, str],
    label: str,
    build: Callable[[str, list[dict[str, str]]], EntityProxy],
    noun: str = "",
) -> None:
    """One entity per value of the ``key`` column (its name in ``row``, its heading); a
    numbered row without one is an error of its own."""
    column, heading = key
    groups: dict[str, list[dict[str, str]]] = defaultdict(list)
    for number, row in rows:
        value = _clean(row.get(column))
        if value:
            groups[value].append(row)
        else:
            result.errors.append(f"{label} line {number}: no {heading}")
    for value, members in groups.items():
        _read(result, f"{label} {noun}{value[:100]}", partial(build, value, members))


def _uk_record(group: str, rows: list[dict[str, str]]) -> EntityProxy:
    kind = _clean(rows[0].get("Group Type")).lower()
    schema = _UK_SCHEMA.get(kind)
    if schema is None:
        raise ValueError(f"unknown group type {kind!r}")
    entity = _make(schema, f"uk-{group}")
    ordered = sorted(rows, key=lambda r: _clean(r.get("Alias Type")).lower() != "primary name")
    for i, row in enumerate(ordered):
        parts = [_clean(row.get(f"Name {n}")) for n in (1, 2, 3, 4, 5, 6)]
        name = " ".join(p for p in parts if p)
        _add(entity, "name" if i == 0 else "alias", name)
        if schema == "Person":
            _add_dates(entity, _clean(row.get("DOB")), _uk_date)
            for nat in re.split(r"\d\)\s*", _clean(row.get("Nationality"))):
                _add(entity, "nationality", nat)
            passport = re.search(r"(?:Passport\s*(?:No\.?|Number)?:?\s*)([A-Z0-9]{5,})",
                                 _clean(row.get("Passport Details")))  # fmt: skip
            if passport:
                _add(entity, "passportNumber", passport.group(1))
        _add(entity, "country", row.get("Country"))
        _add(entity, "program", row.get("Regime"))
    return _finish(entity, f"UK {group}")


def _uk_date(value: str) -> str:
    found = re.fullmatch(r"(\d{2})/(\d{2})/(\d{4})", value)
    if not found:
        raise ValueError(f"unreadable birth date {value[:40]!r}")
    day, month, year = found.groups()
    if month == "00":
        return year
    if day == "00":
        return f"{year}-{month}"
    return date(int(year), int(month), int(day)).isoformat()


# ---------------------------------------------------------------------------------------
# UK: the FCDO "UK Sanctions List" CSV, which superseded the OFSI ConList.
# A "Report Date: …" line, then a header; one row per name of a designation (Unique ID),
# the designation's other fields repeated on each row. Names are "Name 1".."Name 5" (given
# names) and "Name 6" (surname, or the whole name of an entity or ship).

# the columns a designation cannot be read without; the kind column has had two headings
UKSL_COLUMNS = ("Unique ID", "Name 6", "Name type")
_UKSL_KIND_COLUMNS = ("Individual, Entity, Ship", "Designation Type")
_UKSL_WEAK = frozenset({"weak", "low", "low quality"})
_UKSL_SPLIT = re.compile(r"\s*(?:\||;|\n|\d{1,2}\)\s*)\s*")
_UKSL_PERSON = (
    ("Title", "title"), ("Gender", "gender"), ("Position", "position"),
    ("Town of birth", "birthPlace"), ("Nationality(/ies)", "nationality"),
    ("Passport number", "passportNumber"), ("National Identifier number", "idNumber"),
)  # fmt: skip
_UKSL_OTHER = {
    "Organization": (("Business registration number (s)", "registrationNumber"),),
    "Vessel": (("IMO number", "imoNumber"), ("Current believed flag of ship", "flag")),
}


def _uksl_key(heading: str) -> str:
    return " ".join(heading.split()).lower()


def parse_uk_sanctions_list(data: bytes) -> Imported:
    """The FCDO UK Sanctions List CSV; bad rows and designations are errors of their own."""
    reader = CheckedCsv(decode(data), "UK Sanctions List")
    header: dict[str, int] = {}
    for _skipped in range(5):  # the header follows a "Report Date" line
        cells = next(reader, None)
        if cells is None:
            break
        if "unique id" in {_uksl_key(c) for c in cells}:
            header = {}
            for i, cell in enumerate(cells):
                header.setdefault(_uksl_key(cell), i)  # first occurrence wins
            break
    missing = [c for c in UKSL_COLUMNS if _uksl_key(c) not in header]
    if not any(_uksl_key(c) in header for c in _UKSL_KIND_COLUMNS):
        missing.append(_UKSL_KIND_COLUMNS[0])
    if missing:
        raise ListFormatError(f"UK Sanctions List: header lacks the columns {', '.join(missing)}")
    reader.width = max(header.values()) + 1
    result = Imported()
    rows = _uksl_rows(reader, header, result.errors)
    _read_grouped(result, rows, ("unique id", "Unique ID"), "UK Sanctions List", _uksl_record)
    return result


def _uksl_rows(
    reader: Iterator[list[str]], header: dict[str, int], errors: list[str]
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, row by lower-case heading); a row shorter than the header is an error."""
    width = max(header.values()) + 1
    for cells in reader:
        line = getattr(reader, "line_num", 0)  # the file's line: a quoted cell may span two
        if not any(c.strip() for c in cells):
            continue
        if len(cells) < width:
            errors.append(
                f"UK Sanctions List line {line}: {len(cells)} columns, header has {width}"
            )
            continue
        yield line, {key: cells[i] for key, i in header.items()}


def _uksl_kind(rows: list[dict[str, str]]) -> str:
    for row in rows:
        for column in _UKSL_KIND_COLUMNS:
            kind = _clean(row.get(_uksl_key(column))).lower()
            if kind:
                schema = _UK_SCHEMA.get(kind)
                if schema is None:
                    raise ValueError(f"unknown designation type {kind[:40]!r}")
                return schema
    raise ValueError("no designation type (Individual, Entity, Ship)")


def _uksl_record(uid: str, rows: list[dict[str, str]]) -> EntityProxy:
    schema = _uksl_kind(rows)
    entity = _make(schema, f"uksl-{uid}")
    # the primary name first: it becomes the entity's name, every other one an alias
    ordered = sorted(rows, key=lambda r: _clean(r.get("name type")).lower() != "primary name")
    for i, row in enumerate(ordered):
        given = [_clean(row.get(f"name {n}")) for n in (1, 2, 3, 4, 5)]
        name = " ".join(p for p in [*given, _clean(row.get("name 6"))] if p)
        weak = _clean(row.get("alias strength")).lower() in _UKSL_WEAK
        _add(entity, "name" if i == 0 else ("weakAlias" if weak else "alias"), name)
        _add(entity, "alias", row.get("name non-latin script"))
        _uksl_details(entity, schema, row)
    return _finish(entity, f"UK Sanctions List {uid}")


def _uksl_details(entity: EntityProxy, schema: str, row: dict[str, str]) -> None:
    """Everything but the names out of one row (the same values recur on every row)."""
    _add(entity, "program", row.get("regime name"))
    _add(entity, "country", row.get("address country"))
    _add(entity, "notes", row.get("other information"))
    pairs = _UKSL_PERSON if schema == "Person" else _UKSL_OTHER.get(schema, ())
    for column, prop in pairs:
        for value in _UKSL_SPLIT.split(_clean(row.get(_uksl_key(column)))):
            _add(entity, prop, value)
    if schema == "Person":
        for value in _UKSL_SPLIT.split(_clean(row.get("d.o.b"))):
            _add_dates(entity, value, _uksl_date)


def _uksl_date(value: str) -> str:
    """'14/02/1975', '00/00/1960' (year only), '1960' -> ISO prefix."""
    return value if re.fullmatch(r"\d{4}", value) else _uk_date(value)


# ---------------------------------------------------------------------------------------
# FollowTheMoney JSON lines (OpenSanctions exports)


def parse_ftm_json(data: bytes) -> Imported:
    """FtM entities, one a line; fields cut and bad birth dates dropped as in every format."""
    result = Imported()
    lines = decode(data).splitlines()
    last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    if last >= 0 and not data.rstrip(b" \t").endswith((b"\n", b"\r")):
        try:
            json.loads(lines[last])
        except ValueError:  # the last line stops mid-object: its entity would be lost
            raise ListFormatError(
                f"FtM JSON lines: the file ends in the middle of line {last + 1} (not complete "
                "JSON, no final newline); was the download cut short?"
            ) from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        notes: list[str] = []
        token = _NOTES.set(notes)
        try:
            raw = json.loads(line)
            if not isinstance(raw, dict) or not raw.get("id"):
                raise ValueError("not an entity object with an id")
            entity = _ftm_entity(raw)
        except (ValueError, TypeError, KeyError) as exc:
            result.errors.append(f"FtM line {number}: {exc}")
            continue
        except Exception as exc:  # noqa: BLE001 - followthemoney raises its own InvalidData
            result.errors.append(f"FtM line {number}: {type(exc).__name__}: {exc}")
            continue
        finally:
            _NOTES.reset(token)
        wanted = entity.schema.is_a("LegalEntity") or entity.schema.is_a("Vessel")
        label = f"FtM line {number} ({str(entity.id)[:100]})"
        if wanted and not entity.get("name"):  # a party without a name cannot be screened
            result.errors.append(f"{label}: {entity.schema.name} without a name")
        elif wanted:
            result.entities.append(entity)
            result.errors.extend(f"{label}: {note} (record kept)" for note in notes)
    return result


def _ftm_entity(raw: dict[str, Any]) -> EntityProxy:
    """The proxy of one FtM object: birth dates through ``_add_dates`` (a bad one noted, not
    silently dropped), every value longer than ``MAX_FIELD_CHARS`` cut with a note."""
    props = raw.get("properties")
    births: list[Any] = []
    if isinstance(props, dict) and "birthDate" in props:
        props = dict(props)
        given = props.pop("birthDate")
        births = given if isinstance(given, list) else [given]
        raw = {**raw, "properties": props}
    entity = model.get_proxy(raw, cleaned=False)
    for prop, values in list(entity.properties.items()):
        if any(len(v) > MAX_FIELD_CHARS for v in values):
            entity.pop(prop)
            for value in values:
                _add(entity, prop, value)  # cuts with a note
    if births and not entity.schema.get("birthDate"):
        _note(f"birth date dropped: {entity.schema.name} has no birthDate")
    elif births:
        for value in births:
            _add_dates(entity, str(value), lambda v: v.split("T", 1)[0])
    return entity


# ---------------------------------------------------------------------------------------
# XML helpers: the EU and OFAC files put everything in a default namespace


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(node: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in node if _local(c.tag) == name]


def _descendants(node: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in node.iter() if _local(c.tag) == name]


def _text(node: ET.Element, name: str) -> str:
    found = _children(node, name)
    return _clean(found[0].text) if found else ""


def _parse_xml(data: bytes, label: str, root_name: str) -> ET.Element:
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ListFormatError(f"{label}: not well-formed XML ({exc})") from exc
    if _local(root.tag) != root_name:
        raise ListFormatError(f"{label}: root element is {_local(root.tag)!r}, not {root_name}")
    return root


# ---------------------------------------------------------------------------------------
# OFAC SDN.XML (legacy XML: sdnList/sdnEntry)

_SDN_XML_SCHEMA = {
    "individual": "Person",
    "vessel": "Vessel",
    "aircraft": "Airplane",
    "entity": "Organization",
}


def parse_ofac_xml(data: bytes) -> Imported:
    root = _parse_xml(data, "OFAC SDN.XML", "sdnList")
    result = Imported()
    for entry in _children(root, "sdnEntry"):
        uid = _text(entry, "uid")
        _read(
            result,
            f"OFAC SDN.XML {uid[:100] or '?'}",
            partial(_ofac_xml_record, entry, uid),
        )
    return result


def _ofac_xml_record(entry: ET.Element, uid: str) -> EntityProxy:
    if not uid.isdigit():
        raise ValueError(f"uid {uid!r} is not a number")
    kind = _text(entry, "sdnType").lower()
    schema = _SDN_XML_SCHEMA.get(kind)
    if schema is None:
        raise ValueError(f"unknown sdnType {kind!r}")
    entity = _make(schema, f"ofac-{uid}")
    _add(
        entity,
        "name",
        " ".join(p for p in (_text(entry, "firstName"), _text(entry, "lastName")) if p),
    )
    for program in _descendants(entry, "program"):
        _add(entity, "program", program.text)
    for aka in _descendants(entry, "aka"):
        name = " ".join(p for p in (_text(aka, "firstName"), _text(aka, "lastName")) if p)
        weak = _text(aka, "category").lower() == "weak"
        prop = (
            "weakAlias"
            if weak
            else _OFAC_ALIAS_PROP.get(_text(aka, "type").lower().replace(".", ""), "alias")
        )
        _add(entity, prop, name)
    for item in _descendants(entry, "id"):
        number, kind_text = _text(item, "idNumber"), _text(item, "idType").lower()
        prop = "passportNumber" if "passport" in kind_text else "idNumber"
        if not entity.schema.get(prop):
            prop = "registrationNumber"
        _add(entity, prop, number)
    if schema == "Person":
        for dob in _descendants(entry, "dateOfBirthItem"):
            _add_dates(entity, _text(dob, "dateOfBirth").replace("circa ", ""), parse_ofac_dates)
        for pob in _descendants(entry, "placeOfBirthItem"):
            _add(entity, "birthPlace", _text(pob, "placeOfBirth"))
        for nat in _descendants(entry, "nationality"):
            _add(entity, "nationality", _text(nat, "country"))
        for cit in _descendants(entry, "citizenship"):
            _add(entity, "citizenship", _text(cit, "country"))
    for address in _descendants(entry, "address"):
        _add(entity, "country", _text(address, "country"))
    _add(entity, "notes", _text(entry, "remarks"))
    return _finish(entity, f"OFAC {uid}")


# ---------------------------------------------------------------------------------------
# EU Financial Sanctions Files, XML (export/sanctionEntity)


def parse_eu_xml(data: bytes) -> Imported:
    root = _parse_xml(data, "EU FSF XML", "export")
    result = Imported()
    for node in _children(root, "sanctionEntity"):
        key = node.get("logicalId") or node.get("euReferenceNumber") or ""
        _read(result, f"EU entity {key[:100] or '?'}", partial(_eu_xml_record, node, key))
    return result


def _eu_xml_record(node: ET.Element, key: str) -> EntityProxy:
    if not key:
        raise ValueError("no logicalId")
    subject = _children(node, "subjectType")
    code = (subject[0].get("code") or "") if subject else ""
    schema = {"person": "Person", "enterprise": "Organization"}.get(code.lower())
    if schema is None:
        raise ValueError(f"unknown subject type {code!r}")
    entity = _make(schema, f"eu-{key}")
    names = _children(node, "nameAlias")
    strong = [n for n in names if (n.get("strong") or "true").lower() != "false"]
    weak = [n for n in names if (n.get("strong") or "true").lower() == "false"]
    for i, alias in enumerate(strong + weak):
        whole = _clean(alias.get("wholeName"))
        if not whole:
            parts = (alias.get(a) for a in ("firstName", "middleName", "lastName"))
            whole = " ".join(_clean(p) for p in parts if _clean(p))
        prop = "weakAlias" if alias in weak else ("name" if i == 0 else "alias")
        _add(entity, prop, whole)
    for regulation in _children(node, "regulation"):
        _add(entity, "program", regulation.get("programme"))
    if schema == "Person":
        for birth in _children(node, "birthdate"):
            value = _clean(birth.get("birthdate"))
            if value:
                _add_dates(entity, value, _eu_date)
            elif _clean(birth.get("year")).isdigit():
                _add_dates(entity, _clean(birth.get("year")))
        for citizen in _children(node, "citizenship"):
            _add(entity, "nationality", citizen.get("countryIso2Code"))
        for ident in _children(node, "identification"):
            number = _clean(ident.get("number")) or _clean(ident.get("latinNumber"))
            passport = "passport" in _clean(ident.get("identificationTypeCode")).lower()
            _add(entity, "passportNumber" if passport else "idNumber", number)
    for address in _children(node, "address"):
        _add(entity, "country", address.get("countryIso2Code"))
    return _finish(entity, f"EU {key}")


PARSERS: dict[str, Callable[..., Imported]] = {
    "un_xml": parse_un_xml,
    "ofac_csv": parse_ofac_csv,
    "eu_csv": parse_eu_csv,
    "uk_conlist": parse_uk_conlist,
    "uk_sanctions_list": parse_uk_sanctions_list,
    "ftm_json": parse_ftm_json,
    "ofac_xml": parse_ofac_xml,
    "eu_xml": parse_eu_xml,
}


def iter_names(entity: EntityProxy) -> Iterable[str]:
    for prop in ("name", "alias", "previousName"):
        yield from entity.get(prop)

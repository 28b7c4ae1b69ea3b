"""`legation screen --input FILE`: what a batch file's problems become."""

from __future__ import annotations

from pathlib import Path

import pytest

from legation.cli_screening import _read_queries
from legation.errors import InputError


def _read(tmp_path: Path, name: str, data: bytes) -> list[tuple[int, object, str]]:
    path = tmp_path / name
    path.write_bytes(data)
    return list(_read_queries(path))


def test_an_unclosed_quote_is_a_file_error_naming_its_line(tmp_path: Path) -> None:
    data = b'name,schema\nEric Badege,Person\n"Unclosed,Person\nAli Hassan,Person\nBob,Person\n'
    with pytest.raises(InputError, match=r"q\.csv: line 3 opens a quoted field that is never"):
        _read(tmp_path, "q.csv", data)


def test_a_csv_without_a_name_column_is_one_file_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no 'name' column in the header line \('nom', 'pays'\)"):
        _read(tmp_path, "q.csv", b"nom,pays\nAli,iq\nBob,fr\n")
    with pytest.raises(InputError, match="empty"):
        _read(tmp_path, "q.csv", b"")
    # the header is read without regard to case or spaces
    assert _read(tmp_path, "q.csv", b" Name ,Country\nAli,iq\n") == [
        (2, {"name": "Ali", "country": "iq"}, "")
    ]


def test_a_record_over_several_lines_is_numbered_by_its_first_line(tmp_path: Path) -> None:
    data = b'name,schema\n"Hasan\nNasrallah",Person\n\nEric Badege,Person\n'
    rows = _read(tmp_path, "q.csv", data)
    assert [(n, raw["name"]) for n, raw, _e in rows if isinstance(raw, dict)] == [
        (2, "Hasan\nNasrallah"),
        (5, "Eric Badege"),
    ]


def test_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"line 3 is not UTF-8 \(byte 0xe9 at offset 19\)"):
        _read(tmp_path, "q.csv", b"name\nAli Hassan\nJos\xe9\n")
    rows = _read(tmp_path, "q.jsonl", b'{"name": "Ali"}\n{"name": "Jos\xe9"}\n{"name": "Bob"}\n')
    assert rows[0] == (1, {"name": "Ali"}, "") and rows[2] == (3, {"name": "Bob"}, "")
    assert rows[1] == (2, None, "line 2: not UTF-8 (byte 0xe9, column 13)")
    # a byte order mark is not part of the first column's name
    assert _read(tmp_path, "q.csv", b"\xef\xbb\xbfname\nAli\n") == [(2, {"name": "Ali"}, "")]

"""The default fingerprint (contract.md, "Grouping"), custom fingerprints, the hash and the title."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from collector.fingerprint import (
    default_fingerprint,
    fingerprint_hash,
    make_title,
    resolve_fingerprint,
    traceback_frames,
)

FTP_TRACEBACK = """\
Traceback (most recent call last):
  File "/opt/venvs/load_ftp/lib/python3.11/site-packages/load_ftp/fetch.py", line 88, in fetch_pricelist
    ftp.retrbinary(f"RETR {remote}", out.write)
  File "/usr/lib/python3.11/ftplib.py", line 436, in retrbinary
    with self.transfercmd(cmd, rest) as conn:
         ^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/usr/lib/python3.11/ftplib.py", line 393, in transfercmd
    return self.ntransfercmd(cmd, rest)[0]
ftplib.error_perm: 550 /outgoing/prices_20240301.csv: No such file or directory
"""

# The same code installed elsewhere (another Python, a home-directory venv), after an edit shifted lines.
FTP_TRACEBACK_ELSEWHERE = """\
Traceback (most recent call last):
  File "/home/deploy/.venv/lib/python3.12/site-packages/load_ftp/fetch.py", line 97, in fetch_pricelist
    ftp.retrbinary(f"RETR {remote}", out.write)
  File "/usr/local/lib/python3.12/ftplib.py", line 440, in retrbinary
    with self.transfercmd(cmd, rest) as conn:
  File "/usr/local/lib/python3.12/ftplib.py", line 401, in transfercmd
    return self.ntransfercmd(cmd, rest)[0]
ftplib.error_perm: 550 /outgoing/archive/prices_20240415.csv: No such file or directory
"""

WINDOWS_TRACEBACK = r"""Traceback (most recent call last):
  File "C:\Services\load_ftp\load_ftp\fetch.py", line 12, in fetch_pricelist
  File "C:\Python311\Lib\ftplib.py", line 436, in retrbinary
  File "C:\Python311\Lib\ftplib.py", line 393, in transfercmd
ftplib.error_perm: 550 /outgoing/prices_20240301.csv: No such file or directory
"""

CHAINED = """\
Traceback (most recent call last):
  File "/srv/load_mail/load_mail/imap.py", line 40, in login
    conn.login(user, password)
  File "/usr/lib/python3.11/imaplib.py", line 612, in login
    raise self.error(dat[-1])
imaplib.IMAP4.error: b'[AUTHENTICATIONFAILED] Invalid credentials (Failure)'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/srv/load_mail/load_mail/__main__.py", line 8, in <module>
    main()
  File "/srv/load_mail/load_mail/__init__.py", line 21, in main
    fetch_all()
  File "/srv/load_mail/load_mail/jobs.py", line 55, in fetch_all
    raise MailboxError(box) from exc
load_mail.jobs.MailboxError: prices@acme.de
"""


def fp(**overrides: Any) -> list[str]:
    event: dict[str, Any] = {
        "service": "load_ftp",
        "kind": "error",
        "supplier": "acme",
        "error_type": "ftplib.error_perm",
        "message": "550 /outgoing/prices_20240301.csv: No such file or directory",
        "traceback": None,
    }
    event.update(overrides)
    return default_fingerprint(**event)


# --- traceback frames ---------------------------------------------------------------------------------


def test_frames_are_module_and_function_outermost_first() -> None:
    assert traceback_frames(FTP_TRACEBACK) == [
        "fetch:fetch_pricelist",
        "ftplib:retrbinary",
        "ftplib:transfercmd",
    ]


def test_frames_ignore_line_numbers_and_install_paths() -> None:
    assert traceback_frames(FTP_TRACEBACK_ELSEWHERE) == traceback_frames(FTP_TRACEBACK)
    assert traceback_frames(WINDOWS_TRACEBACK) == traceback_frames(FTP_TRACEBACK)


def test_chained_exceptions_use_the_last_traceback() -> None:
    assert traceback_frames(CHAINED) == ["load_mail.__main__:<module>", "load_mail:main", "jobs:fetch_all"]


def test_direct_cause_chain_uses_the_last_traceback() -> None:
    text = CHAINED.replace(
        "During handling of the above exception, another exception occurred:",
        "The above exception was the direct cause of the following exception:",
    )
    assert traceback_frames(text)[-1] == "jobs:fetch_all"


def test_special_file_names_are_kept_whole() -> None:
    text = """Traceback (most recent call last):
  File "<frozen runpy>", line 198, in _run_module_as_main
  File "<string>", line 1, in <module>
  File "/srv/app/prices.cpython-311.pyc", line 3, in <lambda>
ZeroDivisionError: division by zero"""
    assert traceback_frames(text) == [
        "<frozen runpy>:_run_module_as_main",
        "<string>:<module>",
        "prices.cpython-311:<lambda>",
    ]


def test_recursion_depth_does_not_matter() -> None:
    frame = '  File "/srv/consolidate/tree.py", line {n}, in walk\n    return walk(node.parent)\n'
    shallow = "Traceback (most recent call last):\n" + frame.format(n=10) * 3 + "RecursionError: too deep\n"
    deep = (
        "Traceback (most recent call last):\n"
        + frame.format(n=12) * 3
        + "  [Previous line repeated 996 more times]\n"
        + "RecursionError: maximum recursion depth exceeded\n"
    )
    assert traceback_frames(shallow) == traceback_frames(deep) == ["tree:walk"]


def test_exception_group_frames_are_read_through_the_gutter() -> None:
    text = """  + Exception Group Traceback (most recent call last):
  |   File "/srv/consolidate/run.py", line 30, in main
  |     async with asyncio.TaskGroup() as tg:
  | ExceptionGroup: unhandled errors in a TaskGroup (1 sub-exception)
  +-+---------------- 1 ----------------
    | Traceback (most recent call last):
    |   File "/srv/consolidate/load.py", line 12, in load_one
    |     raise ValueError(name)
    | ValueError: prices_0301.xlsx
    +------------------------------------"""
    assert traceback_frames(text) == ["run:main", "load:load_one"]


def test_no_frames_in_text_without_a_traceback() -> None:
    assert traceback_frames("ValueError: bad price\n") == []
    assert traceback_frames("") == []


# --- default fingerprint ------------------------------------------------------------------------------


def test_traceback_rule_uses_type_and_frames_only() -> None:
    assert fp(traceback=FTP_TRACEBACK) == [
        "load_ftp",
        "error",
        "acme",
        "ftplib.error_perm",
        "fetch:fetch_pricelist",
        "ftplib:retrbinary",
        "ftplib:transfercmd",
    ]


def test_same_code_path_groups_across_installs_and_messages() -> None:
    one = fp(traceback=FTP_TRACEBACK, message="550 /outgoing/prices_20240301.csv: No such file or directory")
    other = fp(traceback=FTP_TRACEBACK_ELSEWHERE, message="550 Permission denied.")
    assert one == other
    assert fingerprint_hash(one) == fingerprint_hash(other)


def test_different_code_path_splits() -> None:
    other_path = FTP_TRACEBACK.replace("in fetch_pricelist", "in fetch_stocklist")
    assert fp(traceback=FTP_TRACEBACK) != fp(traceback=other_path)


def test_chained_exceptions_group_by_the_outermost_traceback() -> None:
    def mail_fp(traceback: str) -> list[str]:
        return fp(service="load_mail", error_type="load_mail.jobs.MailboxError", traceback=traceback)

    base = mail_fp(CHAINED)
    assert mail_fp(CHAINED.replace("in login\n", "in login_with_retry\n")) == base
    assert mail_fp(CHAINED.replace("in fetch_all\n", "in fetch_one\n")) != base


def test_same_error_for_two_suppliers_is_two_investigations() -> None:
    acme = fp(supplier="acme", traceback=FTP_TRACEBACK)
    bertrand = fp(supplier="bertrand", traceback=FTP_TRACEBACK)
    assert acme != bertrand
    assert fingerprint_hash(acme) != fingerprint_hash(bertrand)
    assert fp(supplier="acme") != fp(supplier="bertrand")


@pytest.mark.parametrize("supplier", [None, ""])
def test_missing_supplier_is_a_dash(supplier: str | None) -> None:
    assert fp(supplier=supplier)[:3] == ["load_ftp", "error", "-"]


def test_without_frames_type_and_normalised_message() -> None:
    assert fp() == [
        "load_ftp",
        "error",
        "acme",
        "ftplib.error_perm",
        "<num> <path>: No such file or directory",
    ]
    # a traceback with no frames in it falls through to the message rule
    assert fp(traceback="ftplib.error_perm: 550 nope") == fp()


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (
            "550 /outgoing/prices_20240301.csv: No such file or directory",
            "550 /outgoing/archive/prices_20240415.csv: No such file or directory",
        ),
        (
            "row 1532: order 3f2b8c1e-9a4d-4e7b-8c2a-1d2e3f4a5b6c at 2024-03-01T06:00:00Z",
            "row 7: order 9c2a1d2e-3f4a-4b6c-8e7b-3f2b8c1e9a4d at 2024-04-15T18:45:00Z",
        ),
        ("Could not connect to 10.0.0.5:21: timed out", "Could not connect to 192.168.1.20:2121: timed out"),
    ],
)
def test_same_error_differing_only_in_values_is_one_investigation(one: str, other: str) -> None:
    assert fp(message=one) == fp(message=other)
    assert fp(error_type=None, message=one) == fp(error_type=None, message=other)


def test_without_type_only_the_normalised_message() -> None:
    assert fp(error_type=None) == ["load_ftp", "error", "acme", "<num> <path>: No such file or directory"]
    # frames need a type to go with them (contract rule 1), so a bare traceback does not count
    assert fp(error_type=None, traceback=FTP_TRACEBACK) == fp(error_type=None)


def test_type_and_kind_and_service_split() -> None:
    base = fp()
    assert fp(error_type="ftplib.error_temp") != base
    assert fp(kind="stale") != base
    assert fp(service="load_mail") != base


def test_the_message_rules_cannot_collide_with_the_type_rule() -> None:
    # [type, message] vs [message] with a message that looks like a type: parts differ in number
    with_type, without_type = fp(error_type="a", message="b"), fp(error_type=None, message="a")
    assert fingerprint_hash(with_type) != fingerprint_hash(without_type)


# --- custom fingerprints ------------------------------------------------------------------------------

DEFAULT = ["load_ftp", "error", "acme", "ftplib.error_perm", "<num> <path>: No such file or directory"]


@pytest.mark.parametrize("custom", [None, []])
def test_no_custom_fingerprint_means_the_default(custom: list[str] | None) -> None:
    assert resolve_fingerprint(custom, DEFAULT) == DEFAULT


@pytest.mark.parametrize("element", ["{{ default }}", "{{default}}", " {{  default }} "])
def test_default_element_expands_in_place(element: str) -> None:
    assert resolve_fingerprint([element, "2024-Q1"], DEFAULT) == [*DEFAULT, "2024-Q1"]
    assert resolve_fingerprint(["night-run", element], DEFAULT) == ["night-run", *DEFAULT]


def test_custom_fingerprint_without_default_replaces_it() -> None:
    custom = ["load_ftp", "acme-ftp-down"]
    assert resolve_fingerprint(custom, DEFAULT) == custom
    assert fingerprint_hash(resolve_fingerprint(custom, DEFAULT)) != fingerprint_hash(DEFAULT)


def test_resolving_does_not_alias_the_default() -> None:
    resolved = resolve_fingerprint(None, DEFAULT)
    resolved.append("x")
    assert DEFAULT[-1] != "x"


def test_text_around_default_is_not_an_expansion() -> None:
    assert resolve_fingerprint(["prefix {{ default }}"], DEFAULT) == ["prefix {{ default }}"]


# --- hash ---------------------------------------------------------------------------------------------


def test_hash_is_sha256_of_compact_json() -> None:
    # pinned: stored investigation keys depend on this encoding
    expected = hashlib.sha256(b'["load_ftp","error","-","timed out"]').hexdigest()
    assert fingerprint_hash(["load_ftp", "error", "-", "timed out"]) == expected
    assert len(expected) == 64


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (["a b", "c"], ["a", "b c"]),
        (["ab"], ["a", "b"]),
        (["a,b"], ["a", "b"]),
        (['a","b'], ["a", "b"]),
        ([""], []),
    ],
)
def test_hash_keeps_part_boundaries(one: list[str], other: list[str]) -> None:
    assert fingerprint_hash(one) != fingerprint_hash(other)


def test_hash_handles_any_text() -> None:
    digest = fingerprint_hash(["Préis", "价格", "\ud800", "\x00"])
    assert len(digest) == 64
    assert int(digest, 16) >= 0


# --- title --------------------------------------------------------------------------------------------


def test_title_is_type_and_raw_first_line() -> None:
    title = make_title(
        "ftplib.error_perm", "550 /outgoing/prices_20240301.csv: No such file or directory\nmore"
    )
    assert title == "ftplib.error_perm: 550 /outgoing/prices_20240301.csv: No such file or directory"


def test_title_without_type_is_the_first_non_empty_line() -> None:
    assert make_title(None, "\n\n  timed   out \nretrying") == "timed out"


def test_title_does_not_repeat_the_type() -> None:
    assert make_title("ValueError", "ValueError: bad price '12,50'") == "ValueError: bad price '12,50'"


def test_title_of_an_empty_message() -> None:
    assert make_title("TimeoutError", "") == "TimeoutError"
    assert make_title(None, "  \n") == ""


def test_long_title_is_cut_with_an_ellipsis() -> None:
    title = make_title("ValueError", "x" * 500)
    assert len(title) == 200
    assert title.startswith("ValueError: xxx")
    assert title.endswith("…")
    short = make_title("ValueError", "bad price in row 1532", max_len=20)
    assert short == "ValueError: bad pri…"
    assert len(short) == 20


def test_title_exactly_at_the_limit_is_not_cut() -> None:
    assert make_title(None, "x" * 200) == "x" * 200


def test_title_rejects_a_useless_limit() -> None:
    with pytest.raises(ValueError, match="max_len"):
        make_title("E", "m", max_len=0)

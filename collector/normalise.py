"""Message normalisation: the part of grouping that decides which errors are "the same".

Two events land in one investigation when their messages differ only in values that change from run to
run: numbers, ids, dates, hosts, paths, price-list file names. This module rewrites those values into
placeholders so the fingerprint sees the *shape* of a message rather than its data.

Why one combined regex and not a chain of ``re.sub`` calls: the alternatives are tried in order at
each position, so a URL wins over the path and the number inside it without a later pass having to
guess whether ``<url>`` was already there, and one scan keeps a typical message at a few microseconds.
Each alternative opens with a character class (its possible first characters) and checks what comes
before it only after that: ``re`` skips an alternative whose class does not match without entering it.
The alternative's name is an empty group at its end, which is what ``match.lastgroup`` reports.

Every pattern is linear in the input: quantifiers are bounded or possessive, and an alternative may
only start at a token boundary, so a 64 KiB line of junk cannot stall ingest.

Pure: no I/O, stdlib only.
"""

from __future__ import annotations

import re

__all__ = ["PLACEHOLDERS", "QUOTED", "first_line", "normalise_message"]

# alternative name -> what replaces its match
_PLACEHOLDER_OF: dict[str, str] = {
    "url": "<url>",
    "email": "<email>",
    "uuid": "<uuid>",
    "datetime": "<datetime>",
    "date": "<date>",
    "mdate": "<date>",
    "ip6b": "<ip>",
    "ip6": "<ip>",
    "ip4": "<ip>",
    "winpath": "<path>",
    "uncpath": "<path>",
    "abspath": "<path>",
    "relpath": "<path>",
    "file": "<file>",
    "hex": "<hex>",
    "time": "<time>",
    "num": "<num>",
}
QUOTED = "<str>"
PLACEHOLDERS: frozenset[str] = frozenset([*_PLACEHOLDER_OF.values(), QUOTED])

_TRACEBACK_HEADER = "Traceback (most recent call last):"

_H = "[0-9A-Fa-f]"
_H4 = f"{_H}{{1,4}}"
_UUID_TAIL = f"{_H}{{4}}-{_H}{{4}}-{_H}{{4}}-{_H}{{12}}"
_IPV4 = r"\d{1,3}(?:\.\d{1,3}){3}"
_IPV6 = (
    # full form | ::1, 2001:db8::1, ::ffff:1.2.3.4 | fe80::
    rf"(?:{_H4}:){{7}}{_H4}"
    rf"|(?:{_H4}(?::{_H4}){{0,6}})?::(?:(?:{_H4}:){{0,5}}{_IPV4}|{_H4}(?::{_H4}){{0,6}})"
    rf"|{_H4}(?::{_H4}){{0,6}}::"
)
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"
_WEEKDAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\s"
# a character of a path segment or a file name (no space: a space ends a POSIX path)
_SEG = r"[\w.~@+-]"
_WSEG = r"[\w.~$@+-]"
# extensions of the files these services move around; a dated name with one of them is a <file>
_FILE_EXT = (
    r"(?i:csv|tsv|txt|xlsx|xlsm|xlsb|xls|ods|xml|json|jsonl|zip|gz|tgz|bz2|xz|7z|rar|tar|pdf|dbf|dat"
    r"|log|ya?ml|ini|cfg|conf|eml|msg|html?|parquet|sql|bak|tmp|docx?|py)"
    r"(?:\.(?i:gz|zip|bz2|xz))?"
)
_QUOTE_BODY = r"""(?:'(?:[^'\\]|\\.)*+'|"(?:[^"\\]|\\.)*+")"""

# Order matters: at one position the first alternative that matches wins.
_ALTERNATIVES: list[tuple[str, str]] = [
    # 1 Mar 2024, Fri, 01 Mar 2024, March 1, 2024 (before "word", which would take the month)
    (
        "mdate",
        r"(?=[0-9JFMASONDTWjfmasondtw])(?<!\w)"
        rf"(?i:(?:{_WEEKDAY})?\d{{1,2}}\s{_MONTH}\s\d{{4}}|{_MONTH}\s\d{{1,2}},?\s\d{{4}})(?!\d)",
    ),
    # Not a value: a plain word and the spaces after it, copied through. Only for speed: it saves
    # trying every alternative at each letter. A word that could begin a value is followed by one of
    # the characters excluded here (``http:/``, ``host.de``, ``bob@``, ``rb'``, ``dir/``,
    # ``prices.xlsx``); a full stop or colon that ends a sentence or a label is fine.
    ("word", r"""[A-Za-z](?<![A-Za-z]{2})[A-Za-z]*+(?![\w@/\\"+~-]|[.:]\S|(?<=\b\w)'|(?<=\b\w\w)')\s*+"""),
    # a type in a repr (``<class 'decimal.ConversionSyntax'>``) names the error kind: keep it verbatim
    ("keep", r"<class '[\w.]{1,200}'>"),
    # Python reprs escape the quote they use, so a quote ends at the next unescaped one of its kind.
    # An opening quote must not follow a word character (the apostrophe in "can't" opens nothing) and
    # a closing one must not precede one; b'' / r'' / u'' prefixes belong to the string.
    (
        "quoted",
        rf"""['"bBrRuU](?<![\w'"\\].)(?:(?<=[bBrRuU])[bBrRuU]?{_QUOTE_BODY}|(?<=')(?:[^'\\]|\\.)*+'"""
        rf"""|(?<=")(?:[^"\\]|\\.)*+")(?!\w)""",
    ),
    ("url", r"[A-Za-z](?<!\w.)[A-Za-z0-9+.-]{0,15}://[^\s'\"<>]*+"),
    ("email", r"[\w.+-](?<![\w.+-].)[\w.+-]{0,63}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})++"),
    # 3f2b8c1e-9a4d-4e7b-8c2a-1d2e3f4a5b6c, also as a braced Windows GUID
    (
        "uuid",
        rf"[{{0-9A-Fa-f](?<![0-9A-Za-z].)"
        rf"(?:(?<=\{{){_H}{{8}}-{_UUID_TAIL}\}}|(?<!\{{){_H}{{7}}-{_UUID_TAIL})(?![0-9A-Za-z])",
    ),
    (
        "datetime",
        r"\d(?<!\d.)\d{3}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?"
        r"(?:\s?(?:Z|UTC|[+-]\d{2}:?\d{2})(?!\w))?(?!\d)",
    ),
    # 2024-03-01, 2024/03/01, 01.03.2024, 1-3-2024
    (
        "date",
        r"\d(?<![\w.].)(?:\d{3}(?P<sep_ymd>[-/.])\d{1,2}(?P=sep_ymd)\d{1,2}"
        r"|\d?(?P<sep_dmy>[-/.])\d{1,2}(?P=sep_dmy)\d{4})(?!\w)",
    ),
    ("ip6b", rf"\[(?:{_IPV6})(?:%[\w.]{{1,32}})?\](?::\d{{1,5}})?"),
    ("ip6", rf"(?=[0-9A-Fa-f:])(?<![\w:.])(?:{_IPV6})(?:%[\w.]{{1,32}})?(?![\w:])"),
    ("ip4", r"\d(?<![\w.].)\d{0,2}(?:\.\d{1,3}){3}(?::\d{1,5})?(?!\w|\.\d)"),
    # C:\dir\file.csv (also repr'd, with doubled backslashes), C:/dir; a directory may contain spaces
    # (it is still followed by a backslash)
    ("winpath", rf"[A-Za-z](?<!\w.):(?:\\{{1,2}}|/)(?:[\w.~$@+ -]++(?:\\{{1,2}}|/))*+{_WSEG}*+"),
    ("uncpath", rf"\\\\[\w.$-]++(?:\\{_WSEG}++)++"),
    # /abs/path, ~/x, ./x, ../x
    ("abspath", rf"[/~.](?<![\w/.:~\\@+-].)(?:(?<=/)|(?<=~)/|(?<=\.)\.?/){_SEG}++(?:/{_SEG}*+)*+"),
    # dir/sub/file.ext: a relative path needs a directory and an extension (not "Input/output error")
    (
        "relpath",
        rf"{_SEG}(?<![\w/.:~\\@+-].){_SEG}*+/(?:{_SEG}++/)*+{_SEG}*\.[A-Za-z][A-Za-z0-9]{{0,7}}(?!{_SEG})",
    ),
    # prices_2024-03-01.xlsx, supplier42_20240301.csv.gz: a file name that carries a date or a counter
    ("file", rf"{_SEG}(?<!{_SEG}.)(?:(?<=\d)|(?={_SEG}*?\d)){_SEG}*\.{_FILE_EXT}(?!{_SEG})"),
    # 0xff; a long run of hex digits with at least one digit and one letter (hashes, object ids)
    (
        "hex",
        rf"{_H}(?<![0-9A-Za-z].)(?:(?<=0)[xX]{_H}++"
        rf"|(?:(?<=\d)|(?=[0-9A-Fa-f]*\d))(?:(?<=[A-Fa-f])|(?=\d*+[A-Fa-f])){_H}{{7,}}+)(?![0-9A-Za-z])",
    ),
    ("time", r"\d(?<![\d:.].)\d?:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:\s?[AaPp]\.?[Mm]\.?(?!\w))?(?!\d)"),
    # a digit run glued to letters is part of a name (cp1251, sha256, supplier42) unless it is long
    ("num", r"\d(?:(?<![A-Za-z0-9].)\d*+|\d{4,}+)(?:[.,]\d++)*+"),
]


def _compile(alternatives: list[tuple[str, str]]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{pattern})(?P<{name}>)" for name, pattern in alternatives))


_TOKENS = _compile(_ALTERNATIVES)
# inside quotes inside quotes: values only, so the recursion stops
_VALUES = _compile([alt for alt in _ALTERNATIVES if alt[0] != "quoted"])
_WORD = re.compile(r"\(?[A-Za-z][A-Za-z'-]*[A-Za-z][.,;:!?)]*")
_TRAILING_PUNCTUATION = ".,;:!?)]}"


def first_line(message: str) -> str:
    """The line of a message that names the problem, with runs of whitespace collapsed to one space.

    That is the first non-empty line, except when a whole traceback was sent as the message: its first
    line is the same for every error, so the last line (``ValueError: ...``) is used instead.
    """
    line = next((line for line in message.splitlines() if line.strip()), "")
    if line.strip() == _TRACEBACK_HEADER:
        line = next(line for line in reversed(message.splitlines()) if line.strip())
    return " ".join(line.split())


def normalise_message(message: str) -> str:
    """The first line of `message` with its variable parts replaced by placeholders (see `PLACEHOLDERS`).

    >>> normalise_message("error_perm: 550 /outgoing/prices_20240301.csv: No such file or directory")
    'error_perm: <num> <path>: No such file or directory'
    """
    return _TOKENS.sub(_replace, first_line(message))


def _replace(match: re.Match[str]) -> str:
    return _replacement(match, nested=False)


def _replace_nested(match: re.Match[str]) -> str:
    return _replacement(match, nested=True)


def _replacement(match: re.Match[str], *, nested: bool) -> str:
    kind = match.lastgroup
    text = match.group()
    if kind == "word" or kind == "keep":
        return text
    if kind == "quoted":
        return _replace_quoted(text, nested=nested)
    placeholder = _PLACEHOLDER_OF[kind or ""]
    if kind in ("url", "winpath", "uncpath", "abspath"):
        # these swallow a sentence's full stop or a closing bracket; give it back
        stripped = text.rstrip(_TRAILING_PUNCTUATION)
        if stripped and stripped != text:
            return placeholder + text[len(stripped) :]
    return placeholder


def _replace_quoted(text: str, *, nested: bool) -> str:
    """A quoted value becomes ``<str>``; quoted prose (a server reply, a nested error) is kept, normalised.

    Prose is what still has at least two words once its values are replaced: ``'12,50'``, ``'utf-8'``
    and ``'/in/Price List.xlsx'`` are values; ``b'[AUTHENTICATIONFAILED] Invalid credentials (Failure)'``
    and ``"There is no item named 'xl/sharedStrings.xml' in the archive"`` are prose, and folding every
    IMAP reply or KeyError into one ``<str>`` would merge different problems.
    """
    start = min(i for i in (text.find("'"), text.find('"')) if i >= 0)
    prefix, quote, inner = text[:start], text[start], text[start + 1 : -1]
    # one level of quotes inside quotes is normalised too; deeper ones are left as they are
    normalised = (_VALUES if nested else _TOKENS).sub(_replace_nested, inner)
    words = sum(1 for token in normalised.split() if _WORD.fullmatch(token))
    if words < 2:
        return QUOTED
    return f"{prefix}{quote}{normalised}{quote}"

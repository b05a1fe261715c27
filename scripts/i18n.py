"""Keeps the translations in step with the source.

    .venv/bin/python -m scripts.i18n          extract, merge into each language, compile
    .venv/bin/python -m scripts.i18n --check  exit 1 naming what is missing or stale

Extraction reads every `t(locale, ...)` / `tn(...)` / `Problem(code, ...)` in Python and `_()` /
`ngettext()` / `{% trans %}` in the templates (babel.cfg) into
functions/booking/locale/messages.pot (a Problem's code is its msgctxt); each language's
messages.po gets the new entries (untranslated) and loses the dropped ones; and messages.mo,
what the functions load, is compiled from it. The .mo files are committed because the functions
deploy from functions/ as they are; tests/unit/test_translations.py fails while a
message has no translation or a .mo differs from its .po.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "functions" / "booking"
LOCALE_DIR = SOURCE / "locale"
POT = LOCALE_DIR / "messages.pot"
# Problem(code, template, ...): the message id is the context, the English template the msgid.
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "t": (2,), "tn": (2, 3),
            "Problem": ((1, "c"), 2)}
LANGUAGES = ("sl",)


def extract() -> Catalog:
    with open(ROOT / "babel.cfg", encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    catalog = Catalog(project="booking", charset="utf-8")
    for _file, _lineno, message, comments, context in extract_from_dir(
            str(SOURCE), method_map, options_map, keywords=KEYWORDS):
        catalog.add(message, None, [], auto_comments=comments, context=context)
    return catalog


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"


def load_po(language: str) -> Catalog:
    with open(po_path(language), "rb") as fh:
        return read_po(fh, locale=language)


def _write_po(path: Path, catalog: Catalog) -> None:
    buf = io.BytesIO()
    write_po(buf, catalog, no_location=True, sort_output=True, ignore_obsolete=True,
             omit_header=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())


def _mo_bytes(catalog: Catalog) -> bytes:
    buf = io.BytesIO()
    write_mo(buf, catalog)
    return buf.getvalue()


def update() -> None:
    template = extract()
    _write_po(POT, template)
    for language in LANGUAGES:
        path = po_path(language)
        catalog = load_po(language) if path.exists() else Catalog(locale=language,
                                                                  project="booking")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.fuzzy = False
        _write_po(path, catalog)
        (path.with_suffix(".mo")).write_bytes(_mo_bytes(load_po(language)))


def problems() -> list[str]:
    """Every message the source uses that a language lacks, and every stale compiled file."""
    found: list[str] = []
    wanted = extract()
    for language in LANGUAGES:
        catalog = load_po(language)
        for message in wanted:
            if not message.id:
                continue
            have = catalog.get(message.id, message.context)
            strings = (have.string if isinstance(have.string, tuple) else (have.string,)) \
                if have is not None else ("",)
            name = f"{message.id!r}" + (f" ({message.context})" if message.context else "")
            if have is None or not all(strings) or have.fuzzy:
                found.append(f"{language}: no translation for {name}")
                continue
            wanted_names = _placeholders(message.id)
            if any(_placeholders(text) - wanted_names for text in strings):
                # A value the English does not give would be a KeyError when rendered.
                found.append(f"{language}: {name} uses a value the English does not give")
        mo = po_path(language).with_suffix(".mo")
        if not mo.exists():
            found.append(f"{language}: {mo.name} is missing; run python -m scripts.i18n")
            continue
        with open(mo, "rb") as fh:
            compiled = _entries(read_mo(fh))
        if compiled != _entries(catalog):
            found.append(f"{language}: {mo.name} is older than messages.po; "
                         "run python -m scripts.i18n")
    return found


def _placeholders(text: object) -> set[str]:
    texts = text if isinstance(text, list | tuple) else (text,)
    return {name for t in texts for name in re.findall(r"%\((\w+)\)s", str(t))}


def _entries(catalog: Catalog) -> dict[tuple[object, ...], tuple[str, ...]]:
    """id -> translations, the same shape whether read from a .po or a .mo."""
    def tup(value: object) -> tuple[str, ...]:
        return tuple(value) if isinstance(value, list | tuple) else (str(value),)

    return {(tup(m.id), m.context): tup(m.string) for m in catalog
            if m.id and not m.fuzzy and m.string}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    if not args.check:
        update()
    found = problems()
    for line in found:
        print(line, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

"""The Lambda package keeps only the Babel locales Switchboard speaks (infra/lambda_package.py):
every locale ``locale_of`` answers and each locale Babel loads under it."""

from __future__ import annotations

import io
import zipfile

import babel
from babel import localedata

from chalicelib.reminders.money import LOCALES, PRIMARY, locale_of
from infra.lambda_package import BABEL_REASON, KEEP_BABEL_LOCALES, plan


def _parents(locale: str) -> list[str]:
    """The chain Babel merges when it loads ``locale`` (babel.localedata.load)."""
    chain = []
    while True:
        chain.append(locale)
        if locale == "root":
            return chain
        parent = babel.core.get_global("parent_exceptions").get(locale)
        if not parent:
            parts = locale.split("_")
            parent = "root" if len(parts) == 1 else "_".join(parts[:-1])
        locale = parent


def test_every_locale_we_speak_and_its_parents_stay():
    spoken = {*LOCALES.values(), *PRIMARY.values(), locale_of(None)}
    needed = {parent for locale in spoken for parent in _parents(locale)}
    assert needed <= set(KEEP_BABEL_LOCALES)
    assert all(localedata.exists(locale) for locale in KEEP_BABEL_LOCALES)
    assert _parents("en_GB") == ["en_GB", "en_001", "en", "root"]
    assert _parents("zh_Hans_CN") == ["zh_Hans_CN", "zh_Hans", "zh", "root"]


def test_the_trim_drops_every_other_locale_and_keeps_babel_itself():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in ("babel/__init__.py", "babel/global.dat", "babel/locale-data/LICENSE.unicode",
                     "babel/locale-data/en_US.dat", "babel/locale-data/zh_Hans_CN.dat",
                     "babel/locale-data/root.dat", "babel/locale-data/fr.dat",
                     "babel/locale-data/zh_Hant_TW.dat", "babel/locale-data/en_AU.dat"):
            archive.writestr(name, b"x")
    with zipfile.ZipFile(buffer) as archive:
        goes = plan(archive)
    assert goes == {f"babel/locale-data/{locale}.dat": BABEL_REASON
                    for locale in ("fr", "zh_Hant_TW", "en_AU")}

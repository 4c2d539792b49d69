"""Trim the Lambda zip that ``chalice package`` builds; ``make package`` runs it.

Chalice bundles every file of every requirement. Three parts of that are never loaded by
Switchboard and are dropped from the zip (figures from the 27.8 MB zip of twilio 9.13, botocore
1.44, phonenumbers 9.0; the README's "The Lambda package" has the whole account):

* **botocore's service models, except the services the app calls** — 15.6 MB of the zip (botocore
  ships one model per AWS service, ~450 of them, already gzip'd). The app calls DynamoDB
  (PynamoDB), SSM (the secrets, ``chalicelib.settings``) and Cognito (console sign-in,
  ``chalicelib.console.cognito``); STS stays for the credential chain.
  botocore itself stays, pinned by ``requirements.txt`` through PynamoDB, rather than coming from
  the Lambda runtime: PynamoDB calls botocore's private API (``_make_api_call``, the request
  signer), and the tests run against the pinned version, not whichever one the runtime ships.
* **phonenumbers' geocoder and carrier data** — 19.5 + 1.0 MB unzipped. chalicelib parses,
  formats and validates numbers, reads short numbers and ``phonenumbers.timezone``
  (``hours/calling_window.py``), whose data (``phonenumbers/tzdata``) stays. ``phonenumberslite``
  would not do: it has no time-zone data.
* **twilio's asyncio HTTP client and its stack** (aiohttp, aiohttp-retry and what only they
  need: yarl, multidict, frozenlist, propcache, aiosignal, aiohappyeyeballs, attrs,
  typing-extensions) — 3.1 MB of the zip, 11 MB unzipped. twilio requires them but imports
  them only in ``twilio.http.async_http_client``, which the app never uses
  (``chalicelib.telephony.rest`` builds the synchronous client).
* **Babel's locale data, except the locales Switchboard speaks** — Babel ships one ``.dat`` per
  CLDR locale (~1,150, 35 MB unzipped). ``chalicelib.reminders.money`` formats amounts and
  dates only in the locales its ``locale_of`` answers (``KEEP_BABEL_LOCALES``: those and their
  parent chains, which Babel merges on load); ``babel/global.dat`` (currencies, likely
  subtags, parents) stays.

It then adds the bytecode of the modules the app loads (:func:`precompile`): Lambda cannot
write it to the read-only ``/var/task``, so without it each cold start compiles every module it
imports, and checks the result runs alone (:func:`check`).

Usage::

    python -m infra.lambda_package build build/package-dev/deployment.zip  # all of the above
    python -m infra.lambda_package trim|check|describe build/package-dev/deployment.zip
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import py_compile
import re
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from email.parser import HeaderParser
from pathlib import Path

from packaging.requirements import Requirement

# The AWS services whose botocore models stay: every service the app makes a client for.
# tests/integration/test_infra.py checks chalicelib and app.py name no other.
KEEP_BOTOCORE_SERVICES = ("dynamodb", "ssm", "sts", "cognito-idp")
BOTOCORE_DATA = "botocore/data/"

# The Babel locales whose data stays: the locales chalicelib.reminders.money.locale_of answers
# and every locale Babel loads under them (its parent chain: en_GB -> en_001 -> en -> root;
# zh_Hans_CN -> zh_Hans -> zh -> root). tests/unit/test_lambda_package.py checks both.
KEEP_BABEL_LOCALES = ("root", "en", "en_001", "en_US", "en_GB", "zh", "zh_Hans", "zh_Hans_CN")
BABEL_DATA = "babel/locale-data/"
BABEL_REASON = "Babel's locale data other than " + ", ".join(KEEP_BABEL_LOCALES)

# Files dropped by path (a trailing slash drops a directory).
DROP_PATHS = {
    "phonenumbers/geodata/": "phonenumbers' geocoder data (phonenumbers.geocoder is unused)",
    "phonenumbers/geocoder.py": "phonenumbers' geocoder data (phonenumbers.geocoder is unused)",
    "phonenumbers/geocoder.pyi": "phonenumbers' geocoder data (phonenumbers.geocoder is unused)",
    "phonenumbers/carrierdata/": "phonenumbers' carrier data (phonenumbers.carrier is unused)",
    "phonenumbers/carrier.py": "phonenumbers' carrier data (phonenumbers.carrier is unused)",
    "phonenumbers/carrier.pyi": "phonenumbers' carrier data (phonenumbers.carrier is unused)",
    "twilio/http/async_http_client.py": "twilio's asyncio client and aiohttp (never used)",
}

# Requirements cut: (who requires, what) -> why. What they require, and what only that needs,
# goes too; a distribution that anything kept still requires stays.
CUT_REQUIREMENTS = {
    ("twilio", "aiohttp"): "twilio's asyncio client and aiohttp (never used)",
    ("twilio", "aiohttp-retry"): "twilio's asyncio client and aiohttp (never used)",
}
BOTOCORE_REASON = "botocore service models other than " + ", ".join(KEEP_BOTOCORE_SERVICES)
# Chalice copies chalicelib/ whole, __pycache__ included: bytecode of the work tree, checked by
# timestamps that the zip does not keep (so compiled again on every cold start) or of another
# Python. Only the bytecode add_bytecode() writes stays.
BYTECODE_REASON = "bytecode Chalice copied from the work tree's __pycache__ (replaced below)"
CHECKED_HASH_FLAGS = 0b11  # PEP 552: hash-based, checked

MB = 1_000_000


@dataclass
class Distribution:
    name: str  # normalized: lower case, runs of -_. as one -
    dist_info: str  # "aiohttp-3.14.5.dist-info/"
    requires: set[str]
    files: set[str]


@dataclass
class Dropped:
    files: int = 0
    zipped: int = 0
    unzipped: int = 0


@dataclass
class TrimReport:
    zipped_before: int
    unzipped_before: int
    zipped_after: int = 0
    unzipped_after: int = 0
    dropped: dict[str, Dropped] = field(default_factory=dict)

    def lines(self, name: str = "deployment.zip") -> list[str]:
        out = [f"{name}: {self.zipped_before / MB:.2f} MB -> {self.zipped_after / MB:.2f} MB"
               f" zipped ({self.unzipped_before / MB:.1f} -> {self.unzipped_after / MB:.1f} MB"
               " unzipped)"]
        for reason, d in sorted(self.dropped.items(), key=lambda kv: -kv[1].zipped):
            out.append(f"  dropped {d.zipped / MB:5.2f} MB zipped, {d.unzipped / MB:5.1f} MB"
                       f" unzipped, {d.files:4d} files: {reason}")
        return out


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def distributions(archive: zipfile.ZipFile) -> dict[str, Distribution]:
    """The installed distributions in the zip, from their ``*.dist-info`` METADATA and RECORD."""
    names = set(archive.namelist())
    found = {}
    for metadata in sorted(n for n in names if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)):
        dist_info = metadata.removesuffix("METADATA")
        headers = HeaderParser().parsestr(archive.read(metadata).decode("utf-8", "replace"))
        requires = set()
        for line in headers.get_all("Requires-Dist") or []:
            req = Requirement(line)
            # markers as this interpreter sees them: Chalice took Lambda's Python version from it
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                requires.add(normalize(req.name))
        files = {dist_info + "METADATA"}
        record = dist_info + "RECORD"
        if record in names:
            for row in archive.read(record).decode().splitlines():
                path = row.rsplit(",", 2)[0].strip('"')
                if path:
                    files.add(path)
        files.update(n for n in names if n.startswith(dist_info))
        name = normalize(headers["Name"])
        found[name] = Distribution(name, dist_info, requires, files & names)
    return found


def distributions_to_drop(dists: dict[str, Distribution]) -> dict[str, str]:
    """Name -> reason, for what the cut requirements free: the cut targets and every
    distribution that nothing kept requires any more (``ValueError`` if something kept needs a
    cut target through another path)."""
    roots = {target: why for (owner, target), why in CUT_REQUIREMENTS.items()
             if owner in dists and target in dists}
    drop: dict[str, str] = {}
    todo = list(roots)
    while todo:  # everything the cut targets need, directly or not
        name = todo.pop()
        if name in drop:
            continue
        drop[name] = roots.get(name) or next(
            why for dep, why in drop.items() if name in dists[dep].requires)
        todo.extend(r for r in dists[name].requires if r in dists)
    changed = True
    while changed:  # keep what anything kept still requires
        changed = False
        for dist in dists.values():
            if dist.name in drop:
                continue
            for req in dist.requires:
                if req in drop and (dist.name, req) not in CUT_REQUIREMENTS:
                    if req in roots:
                        raise ValueError(f"{dist.name} requires {req}, which is cut for "
                                         f"{roots[req]!r}: review CUT_REQUIREMENTS")
                    del drop[req]
                    changed = True
    return drop


def plan(archive: zipfile.ZipFile) -> dict[str, str]:
    """File in the zip -> why it goes."""
    names = archive.namelist()
    goes: dict[str, str] = {}
    for name in names:
        if name.startswith(BOTOCORE_DATA):
            rest = name[len(BOTOCORE_DATA):]
            if "/" in rest and rest.split("/", 1)[0] not in KEEP_BOTOCORE_SERVICES:
                goes[name] = BOTOCORE_REASON
            continue
        if name.startswith(BABEL_DATA) and name.endswith(".dat"):
            if name[len(BABEL_DATA):-len(".dat")] not in KEEP_BABEL_LOCALES:
                goes[name] = BABEL_REASON
            continue
        if name.endswith(".pyc") and not _is_our_bytecode(name, archive.read(name)[:8]):
            goes[name] = BYTECODE_REASON
            continue
        for prefix, why in DROP_PATHS.items():
            if name == prefix or (prefix.endswith("/") and name.startswith(prefix)):
                goes[name] = why
                break
    dists = distributions(archive)
    for dist_name, why in distributions_to_drop(dists).items():
        for name in dists[dist_name].files:
            goes.setdefault(name, why)
    return goes


def _is_our_bytecode(name: str, header: bytes) -> bool:
    return (name.endswith(f".{sys.implementation.cache_tag}.pyc")
            and header[:4] == importlib.util.MAGIC_NUMBER
            and int.from_bytes(header[4:8], "little") == CHECKED_HASH_FLAGS)


def trim(path: Path) -> TrimReport:
    """Rewrite the zip at ``path`` without the files :func:`plan` drops (a second run drops
    nothing). Entries keep their order, dates and permissions."""
    path = Path(path)
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        report = TrimReport(path.stat().st_size, sum(i.file_size for i in infos))
        goes = plan(archive)
        if not goes:
            report.zipped_after, report.unzipped_after = report.zipped_before, \
                report.unzipped_before
            return report
        fd, tmp = tempfile.mkstemp(suffix=".zip", dir=path.parent)
        os.close(fd)
        try:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
                for info in infos:
                    why = goes.get(info.filename)
                    if why is None:
                        out.writestr(info, archive.read(info))
                        report.unzipped_after += info.file_size
                        continue
                    d = report.dropped.setdefault(why, Dropped())
                    d.files += 1
                    d.zipped += info.compress_size
                    d.unzipped += info.file_size
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    report.zipped_after = path.stat().st_size
    return report


def describe(path: Path, top: int = 6) -> list[str]:
    """The zip's size and its largest top-level entries (``make bench``)."""
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    zipped, unzipped = Counter(), Counter()
    for info in infos:
        head = info.filename.split("/", 1)[0]
        head = re.sub(r"-[^-]+\.dist-info$", " (dist-info)", head)
        zipped[head] += info.compress_size
        unzipped[head] += info.file_size
    size = Path(path).stat().st_size
    total = sum(unzipped.values())
    lines = [f"Lambda package {path}: {size / MB:.2f} MB zipped (target <= 20 MB),"
             f" {total / MB:.1f} MB unzipped, {len(infos)} files"]
    biggest = ", ".join(f"{name} {zipped[name] / MB:.2f} ({unzipped[name] / MB:.1f})"
                        for name, _ in zipped.most_common(top))
    lines.append(f"  largest, MB zipped (unzipped): {biggest}")
    return lines


# What the package must still do with its trimmed contents, alone (``python -S``: no
# site-packages, only the package and the standard library), as the Lambda runtime runs it.
CHECK = r"""
import importlib, pkgutil, sys
import app
import chalicelib
for module in pkgutil.walk_packages(chalicelib.__path__, "chalicelib."):
    importlib.import_module(module.name)
from chalicelib.hours.calling_window import customer_time_zones
assert customer_time_zones("+14155550100") == ("America/Los_Angeles",), "phonenumbers.timezone"
from twilio.rest import Client
from twilio.http.http_client import TwilioHttpClient
client = Client("AC" + "0" * 32, "token", http_client=TwilioHttpClient(timeout=5))
client.calls("CA" + "0" * 32), client.messages  # what the app calls, built without a request
from pynamodb.connection import Connection
import botocore.session
assert Connection(region="us-east-1").client.meta.service_model.service_name == "dynamodb"
for service in sys.argv[1:]:
    botocore.session.get_session().create_client(service, region_name="us-east-1")
from datetime import date
from chalicelib.reminders.money import format_amount, format_date, spoken_amount
assert format_amount(4217, "USD", "en-US") == "$42.17", "babel en_US"
assert format_amount(4217, "CNY", "zh-CN") == "\u00a542.17", "babel zh_Hans_CN"
assert format_amount(4217, "USD", "en-GB") == "US$42.17", "babel en_GB"
assert format_date(date(2026, 11, 30), "zh-CN") == "2026\u5e7411\u670830\u65e5", "babel zh dates"
assert spoken_amount(4217, "USD", "zh-CN") == "42.17\u7f8e\u5143", "babel zh currency names"
for gone in ("aiohttp", "phonenumbers.geocoder", "phonenumbers.carrier"):
    try:
        importlib.import_module(gone)
    except ImportError:
        continue
    raise AssertionError(gone + " is still in the package")
import os
root = os.getcwd() + os.sep
loaded = sorted({f for f in (getattr(m, "__file__", None) for m in list(sys.modules.values()))
                 if f and f.startswith(root) and f.endswith(".py")})  # requests aliases some
if os.environ.get("LOADED_MODULES_TO"):
    with open(os.environ["LOADED_MODULES_TO"], "w") as out:
        out.write("\n".join(f[len(root):] for f in loaded))
print("ok:", len(loaded), "of its modules loaded")
"""


def check(path: Path) -> str:
    """Extract the zip and run :data:`CHECK` against it alone; the check's last line."""
    with tempfile.TemporaryDirectory(prefix="lambda-package-") as tmp:
        with zipfile.ZipFile(path) as archive:
            archive.extractall(tmp)
        return _run_check(Path(tmp))


def _run_check(root: Path, modules_to: Path | None = None) -> str:
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(root),
           "PYTHONDONTWRITEBYTECODE": "1", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ACCESS_KEY_ID": "check", "AWS_SECRET_ACCESS_KEY": "check"}
    if modules_to is not None:
        env["LOADED_MODULES_TO"] = str(modules_to)
    result = subprocess.run([sys.executable, "-S", "-c", CHECK, *KEEP_BOTOCORE_SERVICES],
                            cwd=root, env=env, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"the package does not run alone:\n{result.stderr[-4000:]}")
    return result.stdout.strip().splitlines()[-1]


def precompile(path: Path) -> tuple[int, int]:
    """Add bytecode for every module of the package that :data:`CHECK` loads (the app, all of
    chalicelib and what they import; not the hundreds of Twilio REST resources the app never
    touches). Lambda's ``/var/task`` is read-only, so without it every cold start compiles
    each module it imports from source. Returns (files added, bytes added to the zip)."""
    with tempfile.TemporaryDirectory(prefix="lambda-package-") as tmp:
        root = Path(tmp) / "package"
        with zipfile.ZipFile(path) as archive:
            archive.extractall(root)
        listing = Path(tmp) / "modules.txt"
        _run_check(root, listing)
        return add_bytecode(path, root, listing.read_text().split())


def add_bytecode(path: Path, root: Path, sources: list[str]) -> tuple[int, int]:
    """Compile ``sources`` (paths in the zip, extracted under ``root``) and add their
    ``__pycache__`` files to the zip, where missing. The bytecode is this interpreter's, the one
    ``chalice package`` took the runtime's Python version from (another version ignores it),
    and is checked against the source's hash on import (a changed source is compiled afresh,
    never run stale; the zip's dates play no part)."""
    path = Path(path)
    before = path.stat().st_size
    with zipfile.ZipFile(path) as archive:
        present = set(archive.namelist())
    added = []
    for rel in sources:
        cache = Path(importlib.util.cache_from_source(rel)).as_posix()
        if cache in present or rel not in present:
            continue
        py_compile.compile(str(root / rel), cfile=str(root / cache), dfile=rel, doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
        added.append(cache)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        for cache in added:
            info = zipfile.ZipInfo(cache, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, (root / cache).read_bytes())
    return len(added), path.stat().st_size - before


def build(path: Path, bytecode: bool = True) -> list[str]:
    """What ``make package`` runs on Chalice's zip: trim, add bytecode, check it runs alone."""
    lines = trim(path).lines(str(path))
    if bytecode:
        files, grown = precompile(path)
        lines.append(f"  added  {grown / MB:5.2f} MB zipped: bytecode of the {files} modules the"
                     " app loads (Lambda cannot write it; it would compile them on every cold"
                     " start)")
    lines.append("  checked alone (python -S: the package and the standard library only): "
                 + check(path))
    lines.extend(describe(path))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["build", "trim", "check", "describe"])
    parser.add_argument("zip", type=Path)
    parser.add_argument("--no-bytecode", action="store_true", help="build: add no bytecode")
    args = parser.parse_args(argv)
    if args.command == "build":
        lines = build(args.zip, bytecode=not args.no_bytecode)
    elif args.command == "trim":
        lines = trim(args.zip).lines(str(args.zip))
    elif args.command == "check":
        lines = [f"{args.zip}: {check(args.zip)} (imported alone, with its trimmed contents)"]
    else:
        lines = describe(args.zip)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

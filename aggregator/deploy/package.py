"""A reproducible Lambda zip: the function code plus its pinned runtime dependencies.

The dependencies are copied from the environment this runs in, after checking that each is
installed at exactly the version requirements.txt pins, so packaging needs no network and the
same inputs always give the same bytes (sorted entries, fixed dates and modes, no bytecode).
boto3 and botocore are left out: the Lambda runtime provides them.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = PACKAGE_ROOT.parent / "requirements.txt"
# What the functions import; the CLI, the deploy code and the local stack stay out of the zip.
FUNCTION_PACKAGES = ("domain", "adapters", "usecases", "handlers")
FUNCTION_MODULES = ("__init__.py", "settings.py")
RUNTIME_DEPENDENCIES = ("aws-lambda-powertools", "typing-extensions", "jmespath")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
# What pip writes about the installation, not the package: it differs between two venvs of
# the same pins (REQUESTED exists only for directly requested packages, RECORD lists local
# paths), so keeping it would give two machines different zips of the same code.
INSTALLER_METADATA = ("RECORD", "REQUESTED", "INSTALLER", "direct_url.json")


class PackagingError(RuntimeError):
    """The environment does not hold the pinned dependencies."""


@dataclass(frozen=True)
class Package:
    data: bytes
    sha256: str
    files: int

    @property
    def key(self) -> str:
        """Content-addressed: a new zip gets a new key, an unchanged one keeps its key (no redeploy)."""
        return f"aggregator/code-{self.sha256[:20]}.zip"


def pinned_versions(requirements: Path = REQUIREMENTS) -> dict[str, str]:
    pins = {}
    for line in requirements.read_text().splitlines():
        match = re.match(r"^\s*([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^\s;#]+)", line)
        if match:
            pins[_normal(match.group(1))] = match.group(2)
    return pins


def package_code(with_dependencies: bool = True) -> Package:
    entries: dict[str, bytes] = {}
    files = [PACKAGE_ROOT / name for name in FUNCTION_MODULES]
    for package in FUNCTION_PACKAGES:
        files.extend((PACKAGE_ROOT / package).rglob("*.py"))
    for path in files:
        entries[f"aggregator/{path.relative_to(PACKAGE_ROOT).as_posix()}"] = path.read_bytes()
    if with_dependencies:
        entries.update(_dependency_files())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, entries[name])
    data = buffer.getvalue()
    return Package(data=data, sha256=hashlib.sha256(data).hexdigest(), files=len(entries))


def _dependency_files() -> dict[str, bytes]:
    pins = pinned_versions()
    entries = {}
    for name in RUNTIME_DEPENDENCIES:
        wanted = pins.get(_normal(name))
        if wanted is None:
            raise PackagingError(f"{name} is not pinned in requirements.txt")
        try:
            dist = distribution(name)
        except PackageNotFoundError as exc:
            raise PackagingError(f"{name} is not installed; run bin/counters from the repository") from exc
        if dist.version != wanted:
            raise PackagingError(f"{name} {dist.version} is installed but requirements.txt pins {wanted}")
        for file in dist.files or []:
            posix = file.as_posix()
            if "__pycache__" in posix or posix.endswith(".pyc") or posix.startswith(("..", "/")):
                continue
            if _is_installer_metadata(posix):
                continue
            path = Path(file.locate())
            if path.is_file():
                entries[posix] = path.read_bytes()
    return entries


def _is_installer_metadata(posix: str) -> bool:
    folder, _, filename = posix.rpartition("/")
    return folder.endswith(".dist-info") and "/" not in folder and filename in INSTALLER_METADATA


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()

"""Start-up checks of the libraries under Python that syndicate's safety relies on.

Every process (web, worker, CLI) runs :func:`check_runtime` when it opens its service
(docs/reliability.md §6): expat must cap entity amplification (billion laughs, 2.4.1+) and
OpenSSL must be a supported release (1.1.1+, also what urllib3 2 needs).
"""

from __future__ import annotations

import pyexpat
import re
import ssl

from syndicate.errors import UnsafeRuntimeError

MIN_EXPAT = (2, 4, 1)
MIN_OPENSSL = (1, 1, 1)


def check_runtime() -> None:
    """Refuse to start on an expat or OpenSSL too old to be safe."""
    require_safe_expat(pyexpat.EXPAT_VERSION)
    require_safe_openssl(ssl.OPENSSL_VERSION_INFO[:3], ssl.OPENSSL_VERSION)


def require_safe_expat(version: str | None = None) -> None:
    """Refuse to run on an expat without billion-laughs protection (2.4.1+)."""
    version = pyexpat.EXPAT_VERSION if version is None else version
    found = tuple(int(n) for n in re.findall(r"\d+", version)[:3])
    if found < MIN_EXPAT:
        raise UnsafeRuntimeError(
            f"{version} is too old to parse untrusted feeds safely: syndicate needs "
            f"expat >= {_dotted(MIN_EXPAT)} (billion-laughs protection); "
            "upgrade the system libexpat or the Python build"
        )


def require_safe_openssl(found: tuple[int, ...], name: str) -> None:
    """Refuse to run on an OpenSSL older than 1.1.1 (end of life, weak TLS defaults)."""
    if tuple(found) < MIN_OPENSSL:
        raise UnsafeRuntimeError(
            f"{name} is too old: syndicate needs OpenSSL >= {_dotted(MIN_OPENSSL)}; "
            "upgrade the system OpenSSL or the Python build"
        )


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))

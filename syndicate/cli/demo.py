"""Demo mode for `make run`: the demo articles and four accounts posting to the local sandbox."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from syndicate.config import Settings

DEMO_SHARE_FILE = "demo-share.json"
DEMO_INBOX = Path(__file__).resolve().parents[2] / "demo" / "inbox"

DEMO_ACCOUNTS: tuple[dict[str, Any], ...] = (
    {"network": "facebook", "name": "demo-page", "page_id": "1000000000001"},
    {"network": "x", "name": "demonews", "auth": "oauth2", "via": "demonews"},
    {"network": "reddit", "name": "demo_user", "subreddit": "syndicate_demo"},
    {"network": "linkedin", "name": "demo-org", "author": "urn:li:organization:1000001"},
)
DEMO_SECRETS = """\
# Written by `syndicate run --demo`: dummy credentials that only the local sandbox accepts.
[facebook.demo-page]
page_token = "demo-facebook-page-token"
[x.demonews]
access_token = "demo-x-user-token"
[reddit.demo_user]
client_id = "demo-client"
client_secret = "demo-client-secret"
username = "demo_user"
password = "demo-password"
[linkedin.demo-org]
access_token = "demo-linkedin-token"
"""


def prepare(settings: Settings) -> Settings:
    """Seed the inbox with the demo articles once and point sharing at the sandbox."""
    inbox = settings.inbox_dir
    inbox.mkdir(parents=True, exist_ok=True)
    processed = inbox / "processed"
    for source in sorted(DEMO_INBOX.glob("*")):
        if (
            source.is_file()
            and not (inbox / source.name).exists()
            and not (processed / source.name).exists()
        ):
            shutil.copy2(source, inbox / source.name)
    if settings.share.get("accounts") and not _from_demo(settings):
        return settings  # the publisher configured real accounts: leave them alone
    secrets = settings.data_dir / "demo-secrets.toml"
    secrets.parent.mkdir(parents=True, exist_ok=True)
    secrets.write_text(DEMO_SECRETS, encoding="utf-8")
    secrets.chmod(0o600)
    share = dict(settings.share)
    share["sandbox"] = f"http://127.0.0.1:{settings.sandbox_port}"
    share["accounts"] = [dict(a) for a in DEMO_ACCOUNTS]
    saved = settings.data_dir / DEMO_SHARE_FILE
    note = "written by `syndicate run --demo` for the commands run beside it; not a setting"
    saved.write_text(
        json.dumps({"note": note, "share": share, "secrets_file": str(secrets.resolve())}),
        encoding="utf-8",
    )
    saved.chmod(0o600)
    return settings.replace(share=share, secrets_file=secrets, source=_source(saved))


def use_running_demo(settings: Settings) -> Settings:
    """The demo's accounts for a command run beside ``syndicate run --demo``.

    `run --demo` leaves its accounts in ``<data_dir>/demo-share.json``, so that
    ``syndicate share ID --dry-run`` (or ``shares``, ``preview``) in a second terminal sees
    what the running demo posts with. Only when the configuration names no accounts of its
    own: a publisher's accounts are never replaced. `make clean` deletes it with ``data/``.
    """
    if settings.share.get("accounts"):
        return settings
    saved = settings.data_dir / DEMO_SHARE_FILE
    try:
        kept = json.loads(saved.read_text(encoding="utf-8"))
        share, secrets = dict(kept["share"]), Path(kept["secrets_file"])
    except (OSError, ValueError, KeyError, TypeError):
        return settings
    source = _source(saved)
    return settings.replace(share={**settings.share, **share}, secrets_file=secrets, source=source)


def _source(saved: Path) -> str:
    return f"{saved} (the demo's accounts)"


def _from_demo(settings: Settings) -> bool:
    return settings.source("share").endswith("(the demo's accounts)")


def start_sandbox(settings: Settings) -> Any:
    """Start the four fake social APIs on the sandbox port, in this process."""
    from syndicate.sandbox.server import Sandbox

    sandbox = Sandbox(port=settings.sandbox_port)
    sandbox.start()
    return sandbox

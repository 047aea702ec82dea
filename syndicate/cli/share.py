"""Share commands: ``adapters``, ``preview <id>`` and ``share <id> --dry-run``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import click

from syndicate import adapters as registry
from syndicate import shares
from syndicate.adapters.base import Account, ShareRequest, redact
from syndicate.cli.context import Context, NotFound, pass_context
from syndicate.errors import ConfigError, SyndicateError
from syndicate.models import Article
from syndicate.shares import view as shares_view
from syndicate.shares.accounts import secret_values
from syndicate.shares.sharing import Sharing
from syndicate.wiring import Wiring


@contextmanager
def _service(ctx: Context) -> Iterator[Wiring]:
    """An open service whose share configuration has been checked; closed afterwards.

    The database must exist already: these commands work on stored articles.
    """
    try:
        service = Wiring.open(ctx.settings, create=False)
    except SyndicateError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        # validate() checks the whole table; an adapter checks its account options when it
        # builds a request, so a missing one (Facebook page_id, …) can surface here too.
        try:
            service.sharing.validate()
            yield service
        except ConfigError as exc:
            raise click.ClickException(f"bad setting {exc}") from exc
    finally:
        if "sharing" in vars(service):
            service.sharing.close()
        service.close()


def _article(service: Wiring, article_id: str) -> Article:
    article = service.store.get_article(article_id)
    if article is None:
        raise NotFound(f"no article with id {article_id!r} (`syndicate articles` lists them)")
    return article


@click.command("adapters")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def adapters_command(as_json: bool) -> None:
    """List the installed share adapters and what each can do.

    \b
    Examples:
      syndicate adapters
      syndicate adapters --json | jq 'keys'
    """
    described = {name: registry.describe(name) for name in registry.available()}
    if as_json:
        click.echo(json.dumps(described, indent=2, ensure_ascii=False, default=str))
        return
    for name, info in described.items():
        click.echo(name)
        for key, value in info.items() if isinstance(info, dict) else [("about", info)]:
            if key != "name":
                click.echo(f"  {key}: {value}")


@click.command()
@click.argument("article_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@pass_context
def preview(ctx: Context, article_id: str, as_json: bool) -> None:
    """Lint an article's link previews; exit 1 if any network would refuse or break it.

    \b
    Examples:
      syndicate preview 001-ecb-holds-rates
      syndicate preview 001-ecb-holds-rates --json
    """
    with _service(ctx) as service:
        problems = service.sharing.preview_problems(_article(service, article_id))
    errors = sum(p.severity == "error" for p in problems)
    if as_json:
        click.echo(json.dumps([vars(p) for p in problems], indent=2, ensure_ascii=False))
    else:
        for p in problems:
            click.echo(f"{p.severity:<8} {p.network:<9} {p.message}")
        warnings = len(problems) - errors
        click.echo(f"{errors} error(s), {warnings} warning(s)" if problems else "no problems")
    if errors:
        ctx_exit(1)


def ctx_exit(code: int) -> None:
    click.get_current_context().exit(code)


@click.command()
@click.argument("article_id")
@click.option("--network", "-n", "networks", multiple=True, help="Only this network (repeatable).")
@click.option("--dry-run", is_flag=True, help="Print each request exactly as it would be sent.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of HTTP text.")
@pass_context
def share(
    ctx: Context, article_id: str, networks: tuple[str, ...], dry_run: bool, as_json: bool
) -> None:
    """Queue an article's shares for the worker, or with --dry-run show the requests.

    Beside a running `make run` (same directory) the demo's four accounts are used.

    \b
    Examples:
      syndicate share 001-ecb-holds-rates --dry-run
      syndicate share 001-ecb-holds-rates --network x --dry-run --json
      syndicate share 001-ecb-holds-rates          # queue it; the worker posts it
    """
    with _service(ctx) as service:
        article = _article(service, article_id)
        accounts = _accounts(service.sharing, networks)
        now = service.now()
        if not dry_run:
            _enqueue(service, article, accounts)
            return
        built = [(a, _request(service, article, a, now)) for a in accounts]
    if as_json:
        click.echo(json.dumps([_entry(a, r) for a, r in built], indent=2, ensure_ascii=False))
        return
    click.echo("\n\n".join(_http_text(a, r) for a, r in built))


def _request(service: Wiring, article: Article, account: Account, now: datetime) -> ShareRequest:
    """The request exactly as the worker will send it: same job key, same marker."""
    marker = shares_view.marker_for(service.store, article.id, account.network, account.name)
    return service.sharing.build_request(article, account, now, marker=marker)


def _enqueue(service: Wiring, article: Article, accounts: list[Account]) -> None:
    """Queue one ledger job per account; the worker posts them (docs/reliability.md §2)."""
    if article.status != "published":
        raise NotFound(f"article {article.id!r} is not published (it was retracted)")
    with service.store.begin() as conn:
        for account in accounts:
            new = shares.enqueue(
                conn, article.id, account, service.now(), service.settings.timezone
            )
            click.echo(f"{account.key}: {'queued' if new is not None else 'already queued'}")


def _accounts(sharing: Sharing, networks: tuple[str, ...]) -> list[Account]:
    accounts = sharing.accounts()
    unknown = sorted(set(networks) - {a.network for a in accounts})
    if unknown:
        have = ", ".join(sorted({a.network for a in accounts})) or "none"
        raise NotFound(f"no enabled account on {', '.join(unknown)} (enabled networks: {have})")
    chosen = [a for a in accounts if not networks or a.network in networks]
    if not chosen:
        raise NotFound(
            "no enabled accounts in [[share.accounts]] of the config file (the demo's accounts "
            "are used only beside a running `syndicate run --demo`; see README, Sharing)"
        )
    return chosen


def _safe_preview(account: Account, request: ShareRequest) -> dict[str, Any]:
    """The request's preview, with every credential of the account redacted too."""
    shown: dict[str, Any] = redact(request.preview(), secret_values(account))
    return shown


def _entry(account: Account, request: ShareRequest) -> dict[str, Any]:
    return {
        "network": account.network,
        "account": account.name,
        "request": _safe_preview(account, request),
    }


def _http_text(account: Account, request: ShareRequest) -> str:
    """The request as HTTP: request line, headers, blank line, body as it is encoded."""
    shown = _safe_preview(account, request)
    lines = [f"# {account.key}: {request.share_text}", f"{shown['method']} {shown['url']}"]
    lines += [f"{name}: {value}" for name, value in shown["headers"].items()]
    if shown.get("auth"):
        lines.append(f"# + {shown['auth']} authorization added when sent")
    body = shown["body"]
    if body is not None:
        if shown["encoding"] == "form":
            lines += ["Content-Type: application/x-www-form-urlencoded", "", urlencode(body)]
        else:
            lines += ["", json.dumps(body)]  # as requests encodes json=
    return "\n".join(lines)

"""`vodfleet token create|list|revoke`: the HTTP API's tokens (stored hashed in the fleet storage)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from workers.exitcodes import EXIT_OK, EXIT_USAGE


def add_parser(sub: Any) -> None:
    p = sub.add_parser("token", help="create, list or revoke HTTP API tokens")
    verbs = p.add_subparsers(dest="verb", required=True)
    create = verbs.add_parser("create", help="make a token (its secret is printed once)")
    create.add_argument("--prefix", action="append", required=True, metavar="PREFIX",
                        help="output prefix the token may read and publish under (a team), e.g. team-a/; repeatable")
    create.add_argument("--scope", choices=["read", "submit"], default="read",
                        help="read: jobs, titles, events; submit: also submit, cancel, retry, upload (default read)")
    create.add_argument("--label", default="", help="who or what it is for")
    create.add_argument("--json", action="store_true", help="print one JSON object with the secret")
    verbs.add_parser("list", help="list tokens (never their secrets)")
    revoke = verbs.add_parser("revoke", help="revoke a token by its id (tok_...)")
    revoke.add_argument("token_id")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from workers.api.tokens import TokenBook  # noqa: PLC0415
    from workers.settings import Settings  # noqa: PLC0415
    from workers.storage import storage_for  # noqa: PLC0415

    book = TokenBook(storage_for(Settings()))
    if args.verb == "create":
        secret, token = book.create(args.prefix, args.scope, label=args.label)
        if args.json:
            print(json.dumps({"token": secret, "token_id": token.token_id, "prefixes": list(token.prefixes),
                              "scope": token.scope}))
        else:
            print(secret)
            print(f"{token.token_id}: {token.scope} under {', '.join(token.prefixes)} (the secret above is shown "
                  "only now)", file=sys.stderr)
        return EXIT_OK
    if args.verb == "list":
        for token in book.tokens():
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(token.created))
            print(f"{token.token_id}  {token.scope:<6}  {when}  {','.join(token.prefixes)}  {token.label}")
        return EXIT_OK
    revoked = book.revoke(args.token_id)
    if revoked is None:
        print(f"no token {args.token_id}; list them with `vodfleet token list`", file=sys.stderr)
        return EXIT_USAGE
    print(f"revoked {revoked.token_id}")
    return EXIT_OK

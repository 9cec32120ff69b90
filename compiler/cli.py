"""Command line: arguments -> a typed request -> run -> exit code.

Exit codes: 0 ok, 1 problems found, 2 usage error, 3 internal error.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from . import __version__, commands
from .errors import SophiaIacError, UsageError

OK, PROBLEMS, USAGE, INTERNAL = 0, 1, 2, 3


@dataclass(frozen=True)
class ValidateRequest:
    paths: tuple[str, ...]
    format: str


@dataclass(frozen=True)
class CompileRequest:
    specs: str
    out: str
    check: bool
    force: bool
    format: str


@dataclass(frozen=True)
class ShowRequest:
    specs: str
    env: str
    format: str


@dataclass(frozen=True)
class PlanRequest:
    specs: str
    env: str
    project: str
    diff: str | None
    format: str


@dataclass(frozen=True)
class SchemaRequest:
    kind: str | None
    write: bool
    check: bool


@dataclass(frozen=True)
class TestIntegrationsRequest:
    specs: str
    env: str
    endpoints: tuple[str, ...]
    concurrency: int
    output: str


@dataclass(frozen=True)
class SecretsRequest:
    specs: str
    env: str | None
    format: str


@dataclass(frozen=True)
class RotateRequest:
    specs: str
    env: str
    due: bool
    secret: str | None
    dry_run: bool
    endpoints: tuple[str, ...]
    record: bool = False


@dataclass(frozen=True)
class RemindRequest:
    specs: str
    env: str
    dry_run: bool


Request = (
    ValidateRequest
    | CompileRequest
    | ShowRequest
    | PlanRequest
    | SchemaRequest
    | TestIntegrationsRequest
    | SecretsRequest
    | RotateRequest
    | RemindRequest
)


def _default_format() -> str:
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sophia-iac", description="Compile sophia-iac YAML specs into Pulumi, ESC and workflows."
    )
    parser.add_argument("--version", action="version", version=f"sophia-iac {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    formats = ("text", "github", "json")

    p = sub.add_parser("validate", help="check spec files and report every problem with file:line:col")
    p.add_argument("paths", nargs="*", default=["specs"], help="spec files or directories (default: specs/)")
    p.add_argument(
        "--format", choices=formats, help="diagnostic format (default: github under GitHub Actions, else text)"
    )

    p = sub.add_parser("compile", help="render generated/ from the specs")
    p.add_argument("--specs", default="specs", help="specs directory (default: specs)")
    p.add_argument("--out", default="generated", help="output directory (default: generated)")
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 with a diff if the output is stale")
    p.add_argument(
        "--force", action="store_true", help="overwrite files in the output directory that compile did not write"
    )
    p.add_argument("--format", choices=formats, help="diagnostic format")

    p = sub.add_parser("show", help="print the effective, resolved spec of one environment")
    p.add_argument("--specs", default="specs", help="specs directory (default: specs)")
    p.add_argument("--env", required=True, help="environment name")
    p.add_argument("--format", choices=("yaml", "json"), default="yaml", help="output format (default: yaml)")

    p = sub.add_parser("plan", help="show the resources `pulumi up` would create for a stack, offline")
    p.add_argument("--specs", default="specs", help="specs directory (default: specs)")
    p.add_argument("--env", required=True, help="environment (stack) name")
    p.add_argument(
        "--project",
        choices=("pulumi", "bootstrap", "all"),
        default="all",
        help="the infrastructure project (pulumi), the bootstrap project, or both (default)",
    )
    p.add_argument("--diff", metavar="REF", help="compare with the specs at a git ref, or in a second specs directory")
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text", help="output format")

    p = sub.add_parser("schema", help="print the JSON Schema for editors, or write/check schema/sophia-iac.schema.json")
    p.add_argument("--kind", help="print the schema of one kind (or integration type) instead")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help="write schema/sophia-iac.schema.json")
    group.add_argument("--check", action="store_true", help="exit 1 if schema/sophia-iac.schema.json is stale")

    p = sub.add_parser("test-integrations", help="check each integration of an environment with one authenticated read")
    p.add_argument("--specs", default="specs", help="specs directory (default: specs)")
    p.add_argument("--env", required=True, help="environment name (credentials: the variables its ESC env exports)")
    p.add_argument(
        "--endpoint", action="append", default=[], metavar="TYPE=URL", help="replace a service's base URL (repeatable)"
    )
    p.add_argument("--concurrency", type=int, default=4, help="most checks running at once (default: 4)")
    p.add_argument("--output", default="integration-test-results.json", help="results JSON file")
    p = sub.add_parser("secrets", help="list every secret with its rotation method, last rotation and next due date")
    p.add_argument("--specs", default="specs", help="specs directory (default: specs)")
    p.add_argument("--env", help="one environment (default: all)")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    p = sub.add_parser("remind", help="open or update the issue listing an environment's hand-rotated secrets due")
    p.add_argument("--specs", default="specs", help="specs directory (default: specs)")
    p.add_argument("--env", required=True, help="environment name")
    p.add_argument("--dry-run", action="store_true", help="say what would be done; change nothing")
    p = sub.add_parser("rotate", help="rotate an environment's due or named secrets (credentials from ESC)")
    p.add_argument("--specs", default="specs", help="specs directory (default: specs)")
    p.add_argument("--env", required=True, help="environment name")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--due", action="store_true", help="every secret that is due (and revoke what has retired)")
    which.add_argument("--secret", help="one secret, due or not: integration/secret or secret")
    p.add_argument("--dry-run", action="store_true", help="say what would be done; change nothing")
    p.add_argument("--record", action="store_true", help="with --secret: record that a person rotated it now")
    p.add_argument(
        "--endpoint", action="append", default=[], metavar="TYPE=URL", help="replace a service's base URL (repeatable)"
    )
    return parser


def parse(argv: Sequence[str]) -> Request:
    args = _parser().parse_args(argv)
    fmt = getattr(args, "format", None) or _default_format()
    if args.command == "validate":
        return ValidateRequest(tuple(args.paths), fmt)
    if args.command == "compile":
        return CompileRequest(args.specs, args.out, args.check, args.force, fmt)
    if args.command == "show":
        return ShowRequest(args.specs, args.env, args.format)
    if args.command == "plan":
        return PlanRequest(args.specs, args.env, args.project, args.diff, args.format)
    if args.command == "test-integrations":
        return TestIntegrationsRequest(args.specs, args.env, tuple(args.endpoint), args.concurrency, args.output)
    if args.command == "secrets":
        return SecretsRequest(args.specs, args.env, args.format)
    if args.command == "rotate":
        if args.record and not args.secret:
            raise UsageError("--record needs --secret: the secret a person rotated")
        return RotateRequest(
            args.specs, args.env, args.due, args.secret, args.dry_run, tuple(args.endpoint), args.record
        )
    if args.command == "remind":
        return RemindRequest(args.specs, args.env, args.dry_run)
    return SchemaRequest(args.kind, args.write, args.check)


def run(request: Request) -> int:
    if isinstance(request, ValidateRequest):
        return commands.validate(request.paths, request.format)
    if isinstance(request, CompileRequest):
        return commands.compile(
            request.specs, request.out, check=request.check, force=request.force, fmt=request.format
        )
    if isinstance(request, ShowRequest):
        return commands.show(request.specs, request.env, request.format)
    if isinstance(request, PlanRequest):
        return commands.plan(request.specs, request.env, request.project, request.diff, request.format)
    if isinstance(request, SecretsRequest):
        return commands.secrets(request.specs, request.env, request.format)
    if isinstance(request, RotateRequest):
        return commands.rotate(
            request.specs,
            request.env,
            due=request.due,
            secret=request.secret,
            dry_run=request.dry_run,
            endpoints=request.endpoints,
            record=request.record,
        )
    if isinstance(request, RemindRequest):
        return commands.remind(request.specs, request.env, dry_run=request.dry_run)
    if isinstance(request, TestIntegrationsRequest):
        return commands.test_integrations(
            request.specs, request.env, request.endpoints, request.concurrency, request.output
        )
    return commands.schema(request.kind, write=request.write, check=request.check)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        request = parse(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else USAGE
    # A short-lived process whose data is acyclic: the cyclic GC would only re-scan
    # the growing spec graph (a quarter of the run time on large trees).
    gc.disable()
    try:
        return run(request)
    except UsageError as exc:
        print(f"sophia-iac: error: {exc}", file=sys.stderr)
        return USAGE
    except SophiaIacError as exc:
        print(f"sophia-iac: {exc}", file=sys.stderr)
        return PROBLEMS
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        return _internal_error(exc)
    finally:
        gc.enable()


def entry() -> None:
    """The console command: :func:`main`, then exit without tearing the heap down.

    A large spec tree leaves hundreds of thousands of objects that the interpreter would free
    one by one at exit (tens of milliseconds, every run). Everything the command writes is
    closed by then; only the standard streams are flushed here, and a flush that fails (a full
    disk, a reader gone) is reported and fails the command, as the interpreter's own exit would.
    """
    code = main()
    for stream, name in ((sys.stdout, "standard output"), (sys.stderr, "standard error")):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError) as exc:
            code = code or PROBLEMS
            if stream is sys.stdout:
                _say(f"sophia-iac: error: cannot write {name}: {getattr(exc, 'strerror', None) or exc}")
    os._exit(code)


def _say(message: str) -> None:
    try:
        if sys.stderr is not None:
            print(message, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def _internal_error(exc: BaseException) -> int:
    if os.environ.get("SOPHIA_IAC_DEBUG"):
        import traceback

        traceback.print_exception(exc)
    print(
        f"sophia-iac: internal error: {type(exc).__name__}: {exc}\n"
        "This is a bug in sophia-iac, not in your specs; please report it "
        "(set SOPHIA_IAC_DEBUG=1 for the traceback).",
        file=sys.stderr,
    )
    return INTERNAL

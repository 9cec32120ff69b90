"""Semantic checks across documents: names, references, overrides, values.

They run on documents that passed their schema, so shapes can be trusted;
names are looked up in a catalog built from every document with a valid
envelope, so a reference to a document that merely has a schema error is not
reported as dangling too.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from . import schemas
from .diagnostics import Diagnostic, error, note, warning
from .integrations import REGISTRY, with_role
from .integrations.base import GPU_POOLS, POOL_SSH_KEYS, ConfigProblems
from .load import Document, JsonPath, format_path
from .names import config_key, env_var
from .resolve import effective, overrides_of
from .validate import did_you_mean, schema_problems


@dataclass
class Catalog:
    """Names declared per kind, and the documents that passed their schema."""

    names: dict[str, dict[str, Document]] = field(default_factory=lambda: defaultdict(dict))
    valid: list[Document] = field(default_factory=list)
    enveloped: list[Document] = field(default_factory=list)
    duplicates: list[Document] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)

    def declare(self, doc: Document) -> None:
        kind, name = doc.data["kind"], _name(doc)
        if name is None:
            return
        first = self.names[kind].get(name)
        if first is None:
            self.names[kind][name] = doc
            return
        where, again = first.locate(("metadata", "name")), doc.locate(("metadata", "name"))
        self.duplicates.append(doc)
        # Both places: which of the two a change added is not known here, so neither is blamed alone.
        self.problems.append(
            error(
                again,
                "E201",
                f"{kind} '{name}' is already defined",
                path="metadata.name",
                hint=f"first defined at {where}",
            )
        )
        self.problems.append(
            note(
                where, "E201", f"{kind} '{name}' is first defined here; defined again at {again}", path="metadata.name"
            )
        )

    def of(self, kind: str) -> list[Document]:
        """Schema-valid documents of a kind, without the duplicates already reported."""
        return [d for d in self.valid if d.data["kind"] == kind and not any(d is x for x in self.duplicates)]

    @property
    def environments(self) -> dict[str, Document]:
        return self.names["Environment"]

    def alert_routes(self) -> set[str] | None:
        """Route names, or None without a Project (already reported; references cannot be judged)."""
        if not self.names["Project"]:
            return None
        routes: set[str] = set()
        for doc in self.names["Project"].values():
            names = (dig(r, "name") for r in _list(dig(doc.data, "spec", "alertRoutes")))
            routes.update(n for n in names if isinstance(n, str))
        return routes


def dig(data: Any, *path: str) -> Any:
    """``data[path[0]][path[1]]...``, or None where the shape does not allow it."""
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _name(doc: Document) -> str | None:
    meta = doc.data.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    return name if isinstance(name, str) else None


def run(catalog: Catalog) -> list[Diagnostic]:
    """References are checked on every document (shapes guarded); values only on schema-valid ones."""
    out = list(catalog.problems)
    out.extend(_cardinality(catalog))
    for doc in catalog.enveloped:
        out.extend(_REFERENCES.get(doc.data["kind"], _nothing)(doc, catalog))
    for doc in catalog.valid:
        out.extend(_CHECKS.get(doc.data["kind"], _nothing)(doc, catalog))
    out.extend(_generated_names(catalog))
    return out


def _nothing(doc: Document, catalog: Catalog) -> list[Diagnostic]:
    return []


def _cardinality(catalog: Catalog) -> list[Diagnostic]:
    out = []
    projects = list(catalog.names["Project"].values())
    if not projects:
        out.append(
            error(None, "E206", "no Project document found", hint="add one 'kind: Project' document under specs/")
        )
    for extra in projects[1:]:
        out.append(
            error(
                extra.locate(("kind",)),
                "E206",
                "a second Project document; there must be exactly one",
                path="kind",
                hint=f"the first is at {projects[0].locate(('kind',))}",
            )
        )
    if not catalog.environments:
        out.append(
            error(
                None,
                "E207",
                "no Environment document found",
                hint="declare development, staging and production as 'kind: Environment'",
            )
        )
    return out


def _reference(
    doc: Document, path: JsonPath, code: str, what: str, name: Any, known: Iterable[str] | None
) -> list[Diagnostic]:
    if known is None or not isinstance(name, str):
        return []
    known = list(known)
    if name in known:
        return []
    hint = did_you_mean(name, known) or (f"defined: {', '.join(sorted(known))}" if known else f"no {what} is defined")
    return [error(doc.locate(path), code, f"{what} '{name}' is not defined", path=format_path(path), hint=hint)]


def _override_envs(doc: Document, catalog: Catalog) -> list[Diagnostic]:
    out = []
    for env in overrides_of(doc):
        path = ("spec", "overrides", env)
        known = catalog.environments
        if env not in known:
            hint = did_you_mean(env, known) or f"environments: {', '.join(sorted(known))}"
            out.append(
                error(
                    doc.locate(path, key=True),
                    "E203",
                    f"override for undefined environment '{env}'",
                    path=format_path(path),
                    hint=hint,
                )
            )
    return out


def _environment_refs(doc: Document, catalog: Catalog) -> list[Diagnostic]:
    route = dig(doc.data, "spec", "alertRoute")
    return _reference(doc, ("spec", "alertRoute"), "E204", "alert route", route, catalog.alert_routes())


def _rotation_policy_refs(doc: Document, catalog: Catalog) -> list[Diagnostic]:
    out = []
    for i, route in enumerate(_list(dig(doc.data, "spec", "notify", "routes"))):
        out += _reference(doc, ("spec", "notify", "routes", i), "E204", "alert route", route, catalog.alert_routes())
    return out


def _rotation_policy(doc: Document, catalog: Catalog) -> list[Diagnostic]:
    spec = doc.data["spec"]
    out = []
    overlap = spec.get("overlap")
    if overlap and schemas.duration_seconds(overlap) >= schemas.duration_seconds(spec["interval"]):
        out.append(
            error(
                doc.locate(("spec", "overlap")),
                "E403",
                f"overlap {overlap} is not shorter than the interval {spec['interval']}",
                path="spec.overlap",
                hint="old and new credentials overlap for part of the interval",
            )
        )
    return out


def _integration_refs(doc: Document, catalog: Catalog) -> list[Diagnostic]:
    out = _override_envs(doc, catalog) + _depends_on(doc, catalog) + _esc_rotators(doc, catalog)
    entry = REGISTRY.get(dig(doc.data, "spec", "type"))
    policies = catalog.names["RotationPolicy"]
    for secret, ref in _dict(dig(doc.data, "spec", "secrets")).items():
        path = ("spec", "secrets", secret, "rotation")
        rotation = dig(ref, "rotation")
        out += _reference(doc, path, "E202", "rotation policy", rotation, policies)
        method = dig(policies[rotation].data, "spec", "method") if rotation in policies else None
        if entry and method == "automatic" and secret in entry.rotators and dig(ref, "githubSecret"):
            where = ("spec", "secrets", secret, "githubSecret")
            out.append(
                warning(
                    doc.locate(where),
                    "W202",
                    "the rotation workflow cannot update this GitHub Actions secret (its token may not write "
                    "secrets): each scheduled rotation of it fails; `sophia-iac rotate` run with a GITHUB_TOKEN "
                    "that may does it",
                    path=format_path(where),
                    hint="read the value from ESC where it is needed instead of a GitHub Actions secret",
                )
            )
        if entry and method == "automatic" and not entry.automatic_rotation:
            out.append(
                error(
                    doc.locate(path),
                    "E406",
                    f"rotation policy '{rotation}' is automatic, but {entry.title} credentials "
                    "cannot be rotated through its API",
                    path=format_path(path),
                    hint="use a rotation policy with method: reminder",
                )
            )
    return out


def _esc_rotators(doc: Document, catalog: Catalog) -> list[Diagnostic]:
    """E407 for config that would undo what a Pulumi ESC rotator rotates (the program setting the key slot
    ESC's rotator owns), where the secret it rotates has an automatic policy."""
    entry = REGISTRY.get(dig(doc.data, "spec", "type"))
    if entry is None:
        return []
    policies = catalog.names["RotationPolicy"]
    secrets = _dict(dig(doc.data, "spec", "secrets"))
    configs = [("spec", "config")] + [
        ("spec", "overrides", env, "config") for env in _dict(dig(doc.data, "spec", "overrides"))
    ]
    out = []
    for rotator in entry.esc_rotators:
        named = {dig(doc.data, *base, *rotator.secret.split(".")) for base in configs} - {None}
        governing = {n: policies.get(dig(secrets, n, "rotation")) for n in named if isinstance(n, str)}
        automatic = sorted(n for n, p in governing.items() if p and dig(p.data, "spec", "method") == "automatic")
        if not automatic:
            continue
        for base in configs:
            for forbidden in rotator.forbids:
                path = (*base, *forbidden.split("."))
                if dig(doc.data, *path) is not None:
                    out.append(
                        error(
                            doc.locate(path),
                            "E407",
                            f"{forbidden} would undo Pulumi ESC's {rotator.provider} rotator, which rotates "
                            f"secret '{automatic[0]}' ({rotator.secret}) under an automatic policy",
                            path=format_path(path),
                            hint=f"remove {forbidden}: the rotator owns it (or rotate '{automatic[0]}' by reminder)",
                        )
                    )
    return out


def _depends_on(doc: Document, catalog: Catalog) -> list[Diagnostic]:
    """E205 for a dependency on no Integration, E212 for one that comes back to this one."""
    integrations = catalog.names["Integration"]
    me = dig(doc.data, "metadata", "name")
    out: list[Diagnostic] = []
    for i, name in enumerate(_list(dig(doc.data, "spec", "dependsOn"))):
        path = ("spec", "dependsOn", i)
        out += _reference(doc, path, "E205", "integration", name, [n for n in integrations if n != me])
        if name in integrations and name != me and me in _reachable(name, integrations):
            message = f"integration '{me}' depends on '{name}', which depends on '{me}': nothing could deploy first"
            out.append(error(doc.locate(path), "E212", message, path=format_path(path)))
    return out


def _reachable(start: str, integrations: Mapping[str, Document]) -> set[str]:
    """Every integration ``start`` depends on, directly or not."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for name in _list(dig(integrations[todo.pop()].data, "spec", "dependsOn")):
            if isinstance(name, str) and name in integrations and name not in seen:
                seen.add(name)
                todo.append(name)
    return seen


def _integration(doc: Document, catalog: Catalog) -> list[Diagnostic]:
    """Each environment's effective spec against the kind and type schemas, and its config references."""
    entry = REGISTRY[doc.data["spec"]["type"]]
    out = _config_references(doc, entry.references, catalog) + _unique_keys(doc, entry.unique_keys)
    out += _service_rules(doc, entry.config_problems)
    for env, eff in _overridden(doc, catalog):
        problems = _overridden_integration(eff, overrides_of(doc)[env], entry.schema)
        problems = problems or (
            _config_references(eff, entry.references, catalog)
            + _unique_keys(eff, entry.unique_keys)
            + _service_rules(eff, entry.config_problems)
        )
        # A warning the base config already gets is said once, not again for each environment.
        said = {(d.code, d.message) for d in out if not d.is_error}
        out += [in_environment(p, env) for p in problems if p not in out and (p.code, p.message) not in said]
    return out


def _service_rules(doc: Document, rules: ConfigProblems | None) -> list[Diagnostic]:
    """E210: what the integration's service would refuse in its config, at the place in the spec."""
    config = doc.data["spec"].get("config")
    if rules is None or not isinstance(config, dict):
        return []
    found = []
    for path, message, *severity in rules(config):
        where = ("spec", "config", *path)
        report = warning if severity == ["warning"] else error
        code = "W201" if severity == ["warning"] else "E210"
        found.append(report(doc.locate(where), code, message, path=format_path(where)))
    return found


def _overridden_integration(eff: Document, patch: dict[str, Any], type_schema: str) -> list[Diagnostic]:
    """Only what an override can break: the merged config, and the merged health check if it has one."""
    spec = eff.data["spec"]
    problems = []
    if "healthCheck" in patch and spec.get("healthCheck") is not None:
        health = schemas.subschema_validator(schemas.KIND_SCHEMAS["Integration"], "/$defs/healthCheck")
        problems += schema_problems(eff, health, spec["healthCheck"], ("spec", "healthCheck"))
    if "config" not in patch:
        return problems  # the base config, already validated
    if "config" not in spec:
        return problems + [
            error(
                eff.locate(("spec",), key=True),
                "E104",
                "missing required key 'config'",
                path="spec",
                hint="an override set config to null",
            )
        ]
    return problems + schema_problems(eff, type_schema, spec["config"], ("spec", "config"))


def _overridden(doc: Document, catalog: Catalog) -> list[tuple[str, Document]]:
    """(environment, effective document) for each declared environment the document overrides."""
    return [(env, effective(doc, env)) for env in sorted(overrides_of(doc)) if env in catalog.environments]


def in_environment(diagnostic: Diagnostic, env: str) -> Diagnostic:
    """A problem that only an environment's override causes names that environment."""
    return replace(diagnostic, message=f"in environment '{env}': {diagnostic.message}")


def _resource_keys(config: Any, field_path: str) -> Iterable[tuple[JsonPath, str]]:
    """(location, key) for each resource a config list names.

    ``roles[].name``: one key per item. ``environmentVariables[].key+targets[]``: one key per
    combination of the item's fields (a Vercel variable is one resource per key and target).
    """
    first, *others = field_path.split("+")
    if not others:
        yield from ((path, str(value)) for path, value in walk_config(config, first.split("."), ("spec", "config")))
        return
    *parent, leaf = first.split(".")
    for item_path, item in walk_config(config, parent, ("spec", "config")):
        columns = [[(p, str(v)) for p, v in walk_config(item, f.split("."), item_path)] for f in [leaf, *others]]
        for combo in itertools.product(*columns):
            yield combo[0][0], "/".join(value for _, value in combo)


def _unique_keys(doc: Document, fields: Iterable[str]) -> list[Diagnostic]:
    """Config items that name a resource must be unique, or two resources would share a name."""
    out = []
    for field_path in fields:
        seen: dict[str, JsonPath] = {}
        for path, key in _resource_keys(doc.data["spec"]["config"], field_path):
            if key in seen:
                first = doc.locate(seen[key])
                out.append(
                    error(
                        doc.locate(path),
                        "E208",
                        f"'{key}' is already used at {first}; two resources would have the same name",
                        path=format_path(path),
                        hint=f"each {field_path} must be unique",
                    )
                )
            seen.setdefault(key, path)
    return out


def _config_references(doc: Document, references: Iterable[tuple[str, str]], catalog: Catalog) -> list[Diagnostic]:
    known = {
        "secret": ("E209", "secret", list(doc.data["spec"].get("secrets") or {})),
        "app-secret": ("E209", "secret", list(doc.data["spec"].get("secrets") or {})),
        "alert-route": ("E204", "alert route", catalog.alert_routes()),
    }
    out = []
    for field_path, target in references:
        code, what, names = known[target]
        for path, value in walk_config(doc.data["spec"]["config"], field_path.split("."), ("spec", "config")):
            out += _reference(doc, path, code, what, value, names)
    return out


def walk_config(data: Any, parts: Sequence[str], path: JsonPath = ()) -> Iterable[tuple[JsonPath, Any]]:
    """Values at a dotted path where ``name[]`` steps into every item of a list (raw or frozen data)."""
    if not parts:
        yield path, data
        return
    head, rest = parts[0], parts[1:]
    key = head.removesuffix("[]")
    child = data.get(key) if isinstance(data, Mapping) else None
    if child is None:
        return
    if head.endswith("[]"):
        for i, item in enumerate(child if isinstance(child, (list, tuple)) else ()):
            yield from walk_config(item, rest, path + (key, i))
    else:
        yield from walk_config(child, rest, path + (key,))


def _gpu_pool_refs(doc: Document, catalog: Catalog) -> list[Diagnostic]:
    out = _override_envs(doc, catalog)
    hosts = {entry.name for entry in with_role(GPU_POOLS)}
    able = [n for n, d in catalog.names["Integration"].items() if dig(d.data, "spec", "type") in hosts]
    ref = dig(doc.data, "spec", "integration")
    what = f"{'|'.join(sorted(hosts))} integration"
    out += _reference(doc, ("spec", "integration"), "E205", what, ref, able)
    host = catalog.names["Integration"].get(ref) if ref in able else None
    keys = dig(host.data, "spec", "config", POOL_SSH_KEYS) if host is not None else None
    if isinstance(keys, list):
        key = dig(doc.data, "spec", "sshKeyName")
        out += _reference(doc, ("spec", "sshKeyName"), "E211", f"SSH key of '{ref}'", key, [str(k) for k in keys])
    return out


def _gpu_pool(doc: Document, catalog: Catalog) -> list[Diagnostic]:
    base = effective(doc, "")
    out = _gpu_budget(base, base)
    for env, eff in _overridden(doc, catalog):
        problems = schema_problems(eff, schemas.KIND_SCHEMAS["GpuPool"], eff.data) or _gpu_budget(eff, base)
        out += [in_environment(p, env) for p in problems]
    return out


def _gpu_budget(doc: Document, base: Document) -> list[Diagnostic]:
    """Budget and count checks, located at the field an override changed if one did."""
    spec = doc.data["spec"]
    changed = [
        f
        for f in ("maxCount", "pricePerHourUsd", "hourlyBudgetUsd", "minCount")
        if doc.position(("spec", f)) != base.position(("spec", f))
    ]
    if spec["minCount"] > spec["maxCount"]:
        field_name = next((f for f in changed if f in ("minCount", "maxCount")), "minCount")
        return [
            error(
                doc.locate(("spec", field_name)),
                "E405",
                f"minCount {spec['minCount']} exceeds maxCount {spec['maxCount']}",
                path=f"spec.{field_name}",
            )
        ]
    price = spec.get("pricePerHourUsd")
    if price is None or spec["maxCount"] * price <= spec["hourlyBudgetUsd"] + 1e-9:
        return []
    worst = spec["maxCount"] * price
    field_name = next((f for f in changed if f != "minCount"), "maxCount")
    return [
        error(
            doc.locate(("spec", field_name)),
            "E404",
            f"maxCount {spec['maxCount']} x ${price:g}/h = ${worst:.2f}/h "
            f"exceeds hourlyBudgetUsd ${spec['hourlyBudgetUsd']:g}",
            path=f"spec.{field_name}",
            hint=f"lower maxCount to {int(spec['hourlyBudgetUsd'] // price)} or raise hourlyBudgetUsd to {worst:g}",
        )
    ]


def _generated_names(catalog: Catalog) -> list[Diagnostic]:
    """Names derived for generated code must not collide (ESC keys, env vars)."""
    seen: dict[str, tuple[Document, JsonPath]] = {}
    out = []
    for doc in catalog.of("Integration"):
        name = doc.data["metadata"]["name"]
        for secret, ref in sorted((doc.data["spec"].get("secrets") or {}).items()):
            for derived in (config_key(name, secret), "env:" + env_var(name, secret, ref)):
                path = ("spec", "secrets", secret)
                if derived in seen and (seen[derived][0] is not doc or seen[derived][1] != path):
                    first = seen[derived][0].locate(seen[derived][1], key=True)
                    out.append(
                        error(
                            doc.locate(path, key=True),
                            "E208",
                            f"secret derives the name '{derived.removeprefix('env:')}', already used at {first}",
                            path=format_path(path),
                            hint="rename the secret or set a distinct envVar",
                        )
                    )
                seen.setdefault(derived, (doc, path))
    return out


_REFERENCES = {
    "Environment": _environment_refs,
    "RotationPolicy": _rotation_policy_refs,
    "Integration": _integration_refs,
    "GpuPool": _gpu_pool_refs,
}
_CHECKS = {
    "RotationPolicy": _rotation_policy,
    "Integration": _integration,
    "GpuPool": _gpu_pool,
}


def build_catalog(docs: Sequence[Document], schema_ok: Sequence[Document]) -> Catalog:
    catalog = Catalog(valid=list(schema_ok), enveloped=list(docs))
    for doc in docs:
        catalog.declare(doc)
    return catalog


__all__ = ["Catalog", "build_catalog", "run"]

"""Pulumi ESC environment definitions: secret references only, never values.

``esc/<env>.yaml`` is the environment the infrastructure stack opens; the
bootstrap project manages it. ``esc/<env>-bootstrap.yaml`` is the one the
bootstrap stack opens; it is the only definition created by hand, once
(``esc env init <org>/<name>-bootstrap`` then ``esc env edit --file``), since
nothing can manage the environment it needs to run.

Each maps into ``pulumiConfig`` exactly the secrets its program reads in that
environment (:func:`program_secret_keys`). The infrastructure one also exports,
as ``environmentVariables``, the secrets of every integration enabled there: the
integration tests and the application read those; no program does.

Values live in two hand-made environments: the secrets environment, which the
pipeline's identities may open, and the admin-only bootstrap secrets
environment, holding the credentials only the bootstrap uses (those of the
integrations whose bootstrap module authenticates with them: the GitHub App key,
the Pulumi Cloud admin token). A value ``sophia-iac rotate`` rotates is read from
the rotated environment instead, which imports the secrets environment and which
only the rotation workflow writes (:mod:`compiler.homes`). Definitions reference single values
(``${environments.<project>.<name>.<path>}``) instead of importing whole
environments, so opening one shows only what it maps, and nothing the pipeline
opens ever references the bootstrap's credentials.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from ..access import alert_routes_read
from ..homes import bootstrap_only, esc_rotated, home, rotated_paths
from ..model import Environment, Model, thaw
from ..names import alert_webhook_key, env_var
from ..render import RenderContext, header, template
from . import sources

ROOT = "esc"


def reference(environment: str, path: str) -> str:
    """An implicit import of one value: ``${environments.project.name.path}``."""
    project, name = environment.split("/", 1)
    return "${environments" + _key(project) + _key(name) + "." + path + "}"


_INTERPOLATION = re.compile(r"\$\{([^}]*)\}")
_STEP = re.compile(r'\.([^.\[\]"]+)|\["((?:[^"\\]|\\.)*)"\]|\[(\d+)\]')


def esc_references(text: str) -> list[tuple[str, str]]:
    """Every ``${environments...}`` reference in ``text``, in either notation (dots, brackets), as
    (``project/name``, dotted path; ``""`` for the whole environment). One that cannot be read is
    ``("", its text)``."""
    out = []
    for match in _INTERPOLATION.finditer(text):
        inner = match.group(1).strip()
        if not inner.startswith("environments"):
            continue
        steps, at, rest = [], len("environments"), inner
        while at < len(rest):
            step = _STEP.match(rest, at)
            if step is None:
                break
            found = step.group(1) if step.group(1) is not None else step.group(2) or step.group(3)
            steps.append(json.loads(f'"{found}"') if step.group(2) is not None else found)
            at = step.end()
        if at != len(rest) or len(steps) < 2:
            out.append(("", inner))
            continue
        out.append((f"{steps[0]}/{steps[1]}", ".".join(str(s) for s in steps[2:])))
    return out


def outside_references(text: str) -> str:
    """``text`` without its ``${...}`` interpolations."""
    return _INTERPOLATION.sub("", text)


def _key(name: str) -> str:
    """A property-path step: dot notation, or bracket notation where ESC requires it (``.``, ``[``, ``]``, ``"``,
    braces, white space, a leading digit)."""
    plain = not re.search(r'[.\[\]"{}\s]', name) and not name[:1].isdigit()
    return "." + name if plain else "[" + json.dumps(name) + "]"


def program_secret_keys(model: Model, env: Environment, project: str) -> dict[str, tuple[str, str]]:
    """Stack config key (without namespace) -> (ESC environment, path), for every secret ``project``'s
    program reads in ``env``."""
    rotated = rotated_paths(model, env)
    out = {
        s.config_key: (home(env, i, s.esc, rotated), s.esc)
        for i in model.integrations
        for s in i.program_secrets(env.name, project)
    }
    routes = {r.name: r for r in model.project.alert_routes}
    for route in alert_routes_read(model, env, project):
        out[alert_webhook_key(route)] = (env.esc_secrets, routes[route].webhook_esc)
    return dict(sorted(out.items()))


def secret_config(model: Model, env: Environment, project: str) -> dict[str, str]:
    """Namespaced stack config key -> ESC reference to the secret it carries."""
    ns = model.project.pulumi_project
    return {f"{ns}:{key}": reference(*where) for key, where in program_secret_keys(model, env, project).items()}


def exported_secrets(model: Model, env: Environment) -> dict[str, tuple[str, str]]:
    """Environment variable -> (ESC environment, path), of the secrets the pipeline's ESC environment exports in
    ``env``."""
    rotated = rotated_paths(model, env)
    return {
        s.env_var: (home(env, i, s.esc, rotated), s.esc)
        for i in model.integrations
        if i.enabled(env.name) and not bootstrap_only(i)
        for s in i.secrets
    }


def secret_variables(model: Model, env: Environment) -> dict[str, str]:
    out = {var: reference(*where) for var, where in exported_secrets(model, env).items()}
    out.update(application_variables(model, env))
    out["SOPHIA_ENVIRONMENT"] = env.name
    return dict(sorted(out.items()))


def application_variables(model: Model, env: Environment, only: Collection[str] | None = None) -> dict[str, str]:
    """Environment variable -> value: the non-secret settings of the integrations enabled in ``env`` (those
    named in ``only``, when given) that the application reads (a type's ``application`` hook), JSON unless a
    string."""
    out = {}
    for i in model.integrations:
        if i.type.application is None or not i.enabled(env.name) or (only is not None and i.name not in only):
            continue
        for name, value in i.type.application(thaw(i.per_env[env.name].config)).items():
            text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"))
            out[env_var(i.name, name, {})] = text
    return out


def _render(ctx: RenderContext, env: Environment, project: str) -> str:
    model = ctx.model
    bootstrap = project == "bootstrap"
    return template(
        "esc/environment.yaml.j2",
        header=header(ctx.source_names(sources.esc(model, env, bootstrap))),
        env=env,
        name=env.esc_environment + ("-bootstrap" if bootstrap else ""),
        bootstrap=bootstrap,
        rotated=rotated_paths(model, env),
        config=secret_config(model, env, project),
        variables={} if bootstrap else secret_variables(model, env),
    )


_RENDERED: dict[int, tuple[RenderContext, dict[str, str]]] = {}


def esc_texts(ctx: RenderContext) -> dict[str, str]:
    """The definition of each environment's ESC environment, by environment name.

    Two targets need them (this one, and the bootstrap stacks that carry them): rendered once per context.
    """
    held = _RENDERED.get(id(ctx))
    if held is None or held[0] is not ctx:
        _RENDERED.clear()
        held = _RENDERED[id(ctx)] = (ctx, {env.name: _render(ctx, env, "pulumi") for env in ctx.model.environments})
    return dict(held[1])


ROTATORS = "sophiaIacRotators"  # where the rotators environment declares ESC rotators, by the secret's path


def rotator_path(path: str) -> str:
    """Where the ESC rotator of the secret at ``path`` is declared in the rotators environment."""
    return f"{ROTATORS}.{path}"


def rotated_definition(env: Environment) -> dict[str, Any]:
    """The rotated ESC environment of ``env`` as the bootstrap creates it: importing the secrets environment
    (a value not yet rotated is the one put there by hand), nothing of its own yet."""
    return {"imports": [env.esc_secrets], "values": {}}


def rotators_definition(model: Model, env: Environment) -> dict[str, Any]:
    """The rotators ESC environment of ``env`` as sophia-iac declares it: each ESC rotator with its inputs and
    initial state (the credential in use, from the secrets environment), and each secret it rotates mapped
    to its output. ESC replaces a rotator's state when it rotates; nothing else writes it."""
    values: dict[str, Any] = {}
    for integration, secret, rotator, _ in esc_rotated(model, env):
        config = integration.per_env[env.name].config
        by_name = {s.name: s.esc for s in integration.secrets}

        def ref(name: str, paths: dict[str, str] = by_name) -> str:
            return reference(env.esc_secrets, paths[name])

        declared: dict[str, Any] = {"inputs": rotator.inputs(config, ref)}
        if rotator.state is not None:
            declared["state"] = rotator.state(config, ref)
        _put(values, rotator_path(secret.esc), {f"fn::rotate::{rotator.provider}": declared})
        _put(values, secret.esc, "${" + rotator_path(secret.esc) + "." + rotator.output + "}")
    return {"values": values}


def _put(tree: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for part in parents:
        tree = tree.setdefault(part, {})
    tree[leaf] = value


# Stack config key of each definition the bootstrap creates once -> (file suffix, template).
CREATED = {
    "escRotatedDefinition": ("-rotated", "esc/rotated.yaml.j2"),
    "escRotatorsDefinition": ("-rotators", "esc/rotators.yaml.j2"),
}


@dataclass(frozen=True)
class Created:
    """One ESC environment an environment's bootstrap creates once, as sophia-iac declares it."""

    key: str  # the bootstrap stack config key carrying its definition (a key of CREATED)
    environment: str  # project/name
    paths: frozenset[str]  # the paths the generated environment reads from it
    written: frozenset[str]  # the paths the rotation workflow writes there (nothing else may be added)
    definition: dict[str, Any]


def created(model: Model, env: Environment) -> list[Created]:
    """The environments ``env``'s bootstrap creates once: the rotated one where the rotation workflow rotates
    a secret, the rotators one where an ESC rotator does."""
    rotated = rotated_paths(model, env)
    out = []
    if rotated.workflow:
        definition = rotated_definition(env)
        out.append(Created("escRotatedDefinition", env.esc_rotated, rotated.workflow, rotated.workflow, definition))
    if rotated.esc:
        definition = rotators_definition(model, env)
        out.append(Created("escRotatorsDefinition", env.esc_rotators, rotated.esc, frozenset(), definition))
    return out


def created_texts(ctx: RenderContext) -> dict[str, dict[str, str]]:
    """The definitions of the ESC environments each environment's bootstrap creates once and then leaves
    alone (:func:`created`), by environment name and stack config key."""
    out: dict[str, dict[str, str]] = {}
    for env in ctx.model.environments:
        found = {
            c.key: template(
                CREATED[c.key][1],
                header=header(ctx.source_names(sources.rotated(ctx.model, env))),
                env=env,
                paths=sorted(c.paths),
                definition=c.definition,
            )
            for c in created(ctx.model, env)
        }
        if found:
            out[env.name] = found
    return out


class EscTarget:
    name = "esc"
    root = "generated"

    def render(self, ctx: RenderContext) -> dict[str, str]:
        files = {f"{ROOT}/{env}.yaml": text for env, text in esc_texts(ctx).items()}
        for env in ctx.model.environments:
            files[f"{ROOT}/{env.name}-bootstrap.yaml"] = _render(ctx, env, "bootstrap")
        for env_name, texts in created_texts(ctx).items():
            files.update({f"{ROOT}/{env_name}{CREATED[key][0]}.yaml": text for key, text in texts.items()})
        return files

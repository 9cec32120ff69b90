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
"""

from __future__ import annotations

from ..access import alert_routes_read
from ..model import Environment, Model
from ..render import Context, header, template

ROOT = "esc"
PROJECTS = ("pulumi", "bootstrap")


def _ref(path: str) -> str:
    return "${" + path + "}"


def alert_webhook_key(route: str) -> str:
    """The stack config key of an alert route's webhook URL: ``platform`` -> ``alertWebhookPlatform``."""
    return "alertWebhook" + "".join(w.capitalize() for w in route.split("-"))


def program_secret_keys(model: Model, env: Environment, project: str) -> dict[str, str]:
    """Stack config key (without namespace) -> ESC path, for every secret ``project``'s program reads in ``env``."""
    out = {s.config_key: s.esc for i in model.integrations for s in i.program_secrets(env.name, project)}
    routes = {r.name: r for r in model.project.alert_routes}
    for route in alert_routes_read(model, env, project):
        out[alert_webhook_key(route)] = routes[route].webhook_esc
    return dict(sorted(out.items()))


def secret_config(model: Model, env: Environment, project: str) -> dict[str, str]:
    """Namespaced stack config key -> ESC interpolation of the secret it carries."""
    ns = model.project.pulumi_project
    return {f"{ns}:{key}": _ref(path) for key, path in program_secret_keys(model, env, project).items()}


def secret_variables(model: Model, env: Environment) -> dict[str, str]:
    out = {s.env_var: _ref(s.esc) for i in model.integrations if i.enabled(env.name) for s in i.secrets}
    out["SOPHIA_ENVIRONMENT"] = env.name
    return dict(sorted(out.items()))


def _render(ctx: Context, env: Environment, project: str) -> str:
    model = ctx.model
    bootstrap = project == "bootstrap"
    return template(
        "esc/environment.yaml.j2",
        header=header(ctx.source_names(model.sources)),
        env=env,
        name=env.esc_environment + ("-bootstrap" if bootstrap else ""),
        bootstrap=bootstrap,
        config=secret_config(model, env, project),
        variables={} if bootstrap else secret_variables(model, env),
    )


def esc_texts(ctx: Context) -> dict[str, str]:
    """The definition of each environment's ESC environment, by environment name."""
    return {env.name: _render(ctx, env, "pulumi") for env in ctx.model.environments}


class EscTarget:
    name = "esc"
    root = "generated"

    def render(self, ctx: Context) -> dict[str, str]:
        files = {f"{ROOT}/{env}.yaml": text for env, text in esc_texts(ctx).items()}
        for env in ctx.model.environments:
            files[f"{ROOT}/{env.name}-bootstrap.yaml"] = _render(ctx, env, "bootstrap")
        return files

"""Pulumi ESC environment definitions: secret references only, never values.

``esc/<env>.yaml`` is the environment the infrastructure stack opens; the
bootstrap project manages it. ``esc/<env>-bootstrap.yaml`` is the one the
bootstrap stack opens; it is the only definition created by hand, once
(``esc env init <org>/<name>-bootstrap`` then ``esc env edit --file``), since
nothing can manage the environment it needs to run.
"""

from __future__ import annotations

from ..model import Environment, Model
from ..render import Context, header, template

ROOT = "esc"


def _ref(path: str) -> str:
    return "${" + path + "}"


def secret_config(model: Model) -> dict[str, str]:
    """Stack config key -> ESC interpolation of the secret it carries."""
    ns = model.project.pulumi_project
    out = {f"{ns}:{s.config_key}": _ref(s.esc) for i in model.integrations for s in i.secrets}
    for route in model.project.alert_routes:
        out[f"{ns}:{alert_webhook_key(route.name)}"] = _ref(route.webhook_esc)
    return dict(sorted(out.items()))


def alert_webhook_key(route: str) -> str:
    """The stack config key of an alert route's webhook URL: ``platform`` -> ``alertWebhookPlatform``."""
    return "alertWebhook" + "".join(w.capitalize() for w in route.split("-"))


def secret_variables(model: Model, env: Environment) -> dict[str, str]:
    out = {s.env_var: _ref(s.esc) for i in model.integrations for s in i.secrets}
    out["SOPHIA_ENVIRONMENT"] = env.name
    return dict(sorted(out.items()))


def _render(ctx: Context, env: Environment, bootstrap: bool) -> str:
    model = ctx.model
    name = env.esc_environment + ("-bootstrap" if bootstrap else "")
    return template(
        "esc/environment.yaml.j2",
        header=header(ctx.source_names(model.sources)),
        env=env,
        name=name,
        bootstrap=bootstrap,
        config=secret_config(model),
        variables=secret_variables(model, env),
    )


def esc_texts(ctx: Context) -> dict[str, str]:
    """The definition of each environment's ESC environment, by environment name."""
    return {env.name: _render(ctx, env, bootstrap=False) for env in ctx.model.environments}


class EscTarget:
    name = "esc"
    root = "generated"

    def render(self, ctx: Context) -> dict[str, str]:
        files = {f"{ROOT}/{env}.yaml": text for env, text in esc_texts(ctx).items()}
        for env in ctx.model.environments:
            files[f"{ROOT}/{env.name}-bootstrap.yaml"] = _render(ctx, env, bootstrap=True)
        return files

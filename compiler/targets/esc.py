"""Pulumi ESC environment definitions: secret references only, never values."""

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
        out[f"{ns}:alertWebhook{_camel(route.name)}"] = _ref(route.webhook_esc)
    return dict(sorted(out.items()))


def secret_variables(model: Model, env: Environment) -> dict[str, str]:
    out = {s.env_var: _ref(s.esc) for i in model.integrations for s in i.secrets}
    out["SOPHIA_ENVIRONMENT"] = env.name
    return dict(sorted(out.items()))


def _camel(name: str) -> str:
    return "".join(w.capitalize() for w in name.split("-"))


class EscTarget:
    name = "esc"

    def render(self, ctx: Context) -> dict[str, str]:
        model = ctx.model
        sources = ctx.source_names(model.sources)
        return {
            f"{ROOT}/{env.name}.yaml": template(
                "esc/environment.yaml.j2",
                header=header(sources),
                env=env,
                config=secret_config(model),
                variables=secret_variables(model, env),
            )
            for env in model.environments
        }

"""Stable diagnostic codes. A code, once published, keeps its meaning."""

from __future__ import annotations

CODES: dict[str, str] = {
    # E0xx: reading files
    "E001": "file is larger than the size limit",
    "E002": "file is not valid UTF-8",
    "E003": "tab character used for indentation",
    "E004": "YAML syntax error",
    "E005": "duplicate mapping key",
    "E006": "alias expansion exceeds the node limit",
    "E007": "unsupported YAML construct (tag or non-string key)",
    "E008": "path cannot be read",
    "E009": "no spec files found",
    "E010": "output cannot be written (operating-system error)",
    "E011": "output path leaves its output root (link, file in the way, specs directory)",
    # E1xx: document shape (JSON Schema)
    "E101": "document is not a mapping or has a bad apiVersion",
    "E102": "unknown kind",
    "E103": "unknown key",
    "E104": "required key missing",
    "E105": "value has the wrong type",
    "E106": "value is not one of the allowed values",
    "E107": "value does not match the expected format",
    "E108": "value is out of range",
    "E109": "value violates the schema",
    # E2xx: names and references
    "E201": "duplicate name",
    "E202": "reference to an undefined rotation policy",
    "E203": "reference to an undefined environment",
    "E204": "reference to an undefined alert route",
    "E205": "reference to an undefined integration",
    "E206": "Project document missing or repeated",
    "E207": "no Environment declared",
    "E208": "duplicate generated name",
    "E209": "reference to an undefined secret of the integration",
    "E210": "integration config its service would refuse",
    "E211": "GPU pool SSH key its integration does not list",
    "E212": "integrations depend on each other in a cycle",
    # E3xx: secrets
    "E301": "plaintext secret in a spec",
    # E4xx: values
    "E401": "invalid duration",
    "E402": "invalid cron expression",
    "E403": "rotation overlap is not shorter than its interval",
    "E404": "GPU pool can exceed its hourly budget",
    "E405": "minimum count exceeds maximum count",
    "E406": "automatic rotation is not supported by this integration",
    "E407": "config that would undo what a Pulumi ESC rotator rotates",
    # E5xx: contracts between generated artifacts
    "E501": "required status check is not a job that runs on every pull request",
    "E502": "OIDC subject not trusted by the identity meant for it, or a writer reachable from pull requests",
    "E503": "ESC environment and program disagree on the secrets mapped and read",
    "E504": "stack targeted by a workflow is created by no bootstrap stack",
    "E505": "GitHub environment named by a job is missing or unprotected",
    # W: warnings
    "W001": "empty document",
    "W002": "later document without the modeline the first has",
    "W101": "owned file was edited by hand; left in place",
    "W102": "manifest entry outside its output root; ignored",
    "W201": "integration config its service discourages",
    "W202": "a GitHub Actions secret the rotation workflow cannot update",
}

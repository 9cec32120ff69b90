"""The plaintext-secret scanner: each documented token format, and no false alarm on references."""

from __future__ import annotations

import pytest

from compiler.secrets_scan import classify


@pytest.mark.parametrize(
    "value, label",
    [
        ("AKIAIOSFODNN7EXAMPLE", "an AWS access key ID"),
        ("token ghp_aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5", "a GitHub token"),
        ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "a GitHub token"),
        ("https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX", "a Slack webhook URL"),
        ("xoxb-123456789012-1234567890123-abcdefghijkl", "a Slack token"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nabc", "a PEM private key"),
        ("-----BEGIN RSA PRIVATE KEY-----", "a PEM private key"),
        ("sk-or-v1-0123456789abcdef0123456789abcdef", "an OpenRouter API key"),
        ("sk-proj-abcdefghijklmnopqrstuvwxyz012345", "a provider API key (sk-...)"),
        ("sk-ant-api03-abcdefghijklmnopqrstuvwxyz", "an Anthropic API key"),
        ("sk-ant-admin01-abcdefghijklmnopqrstuvwxyz", "an Anthropic API key"),
        ("sk-svcacct-abcdefghijklmnopqrstuvwxyz012345", "a provider API key (sk-...)"),
        ("sk-" + "a1B2c3D4e5" * 5, "a provider API key (sk-...)"),  # legacy OpenAI
        ("pat-na1-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d", "a HubSpot access token"),
        ("pat-eu1-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d", "a HubSpot access token"),
        ("secret_sophia-prod_0123456789abcdef0123456789abcdef", "a Lambda Labs API key"),
        ("vcp_" + "A1b2C3d4E5" * 3, "a Vercel token"),
        ("vci_" + "A1b2C3d4E5" * 3, "a Vercel token"),
        ("xoxp-123456789012-1234567890123-abcdefghijkl", "a Slack token"),
        ("xapp-1-A012345678-1234567890123-abcdef0123456789", "a Slack token"),
        ("xoxe.xoxp-1-Mi0yLTEyMzQ1Njc4OTAxMi0xMjM0NTY3ODkw", "a Slack token"),
        ("AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", "a Google API key"),
        ("sk_live_" + "a1B2c3D4e5" * 3, "a Stripe secret key"),
        ("rk_test_" + "a1B2c3D4e5" * 3, "a Stripe secret key"),
        ("whsec_" + "a1B2c3D4e5" * 3, "a Stripe secret key"),
        ("glpat-" + "a1B2c3D4e5" * 2, "a GitLab token"),
        ("npm_" + "a1B2c3D4e5" * 3 + "a1B2c3", "an npm token"),
        ("SG." + "a" * 22 + "." + "b" * 43, "a SendGrid API key"),
        # Estuary refresh token: base64 of {"id":...,"secret":...}
        ("eyJpZCI6IjEyMzQ1Njc4OTAiLCJzZWNyZXQiOiJhYmNkZWZnaGlqIn0=", "a base64-encoded JSON credential"),
        (
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "a JSON Web Token",
        ),
        ("pul-0123456789abcdef0123456789abcdef01234567", "a Pulumi access token"),
        ("postgres://admin:hunter2@db.internal/sophia", "credentials in a URL"),
    ],
)
def test_token_formats(value: str, label: str) -> None:
    assert classify("description", value) == label


def test_high_entropy_only_in_secret_like_fields() -> None:
    value = "Zx8Kq2Lm9Pw4Rt7Yv3Nb6Hc1"
    assert classify("apiKey", value) == "a high-entropy value in the secret-like field 'apiKey'"
    assert classify("clientSecret", value) is not None
    assert classify("warehouse", value) is None


@pytest.mark.parametrize(
    "key, value",
    [
        ("esc", "snowflake.privateKeyPassphrase2"),
        ("secretsEnvironment", "sophia-ai/production-secrets2"),
        ("envVar", "SNOWFLAKE_PRIVATE_KEY_2024"),
        ("apiKey", "my-readable-name"),
        ("description", "Rotate the sk- keys every 90 days"),
    ],
)
def test_references_and_prose_are_not_secrets(key: str, value: str) -> None:
    assert classify(key, value) is None


@pytest.mark.parametrize(
    "key, value",
    [
        ("clientSecret", "Zx8Kq2Lm9Pw4Rt7Yv3Nb6Hc1Qa5Sd0Fg"),  # Airbyte client secret: random, no prefix
        ("apiKey", "pk_7f3Kq2Lm9Pw4Rt7Yv3Nb6Hc1Qa"),  # Portkey: random, no prefix
        ("accessKey", "ZQ2XL7KQ4N6BV3MJ8RT5"),  # Gong access key: random, no prefix
    ],
)
def test_unprefixed_credentials_of_managed_services_in_secret_fields(key: str, value: str) -> None:
    assert classify(key, value) is not None


def test_field_names_and_esc_paths_spelled_as_words_are_not_taken_for_credentials() -> None:
    from compiler.load import Document
    from compiler.secrets_scan import secret_like

    data = {
        "serviceUser": {"rsaPublicKey2Ref": "public-key-2"},
        "secrets": {"public-key-2": {"esc": "snowflake.servicePublicKey2"}},
        "token": "aB3xY9kLmN2pQ7rS",  # random: still one
        "labelKey": "Zq8Wv2Lr5Tx1Mn7Kp",
    }
    found = secret_like([Document("x.yaml", data, None, None)])  # type: ignore[arg-type]
    assert found == {"aB3xY9kLmN2pQ7rS", "Zq8Wv2Lr5Tx1Mn7Kp"}

"Safety: detect-secrets-backed detectors, policy actions, policies from mappings, recall on planted secrets."
import math, random, string, sys
from pathlib import Path
import pytest
import yaml
from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from codex_nb.core import SafetyError
from codex_nb.data import humaneval_records
from codex_nb.safety import (DETECTOR_NAMES, DETECTORS, SafetyFilters, SafetyPolicy, _is_random, _split_trigger)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]/"bench"))
import bench_redaction  # noqa: E402  (the benchmark's generator of planted secrets)

FILTERS = SafetyFilters()
PLUGINS = {cls.__name__: cls() for cls in get_mapping_from_secret_type_to_class().values()}

def rand(n, alphabet=string.ascii_letters + string.digits, seed=0):
    return "".join(random.Random(f"{n}{alphabet}{seed}").choices(alphabet, k=n))

HEX = "0123456789abcdef"
# kind -> (line with `{}` for the credential, credential, the detect-secrets plugin that knows the format); the
# credentials are generated or assembled from pieces, so that secret scanners do not flag this file
PREFIXED = {
    "aws_access_key": ("aws_key = '{}'", "AKIA" + rand(16, string.ascii_uppercase + string.digits), "AWSKeyDetector"),
    "github_token": ("token {}", "ghp_" + rand(36), "GitHubTokenDetector"),
    "gitlab_token": ("GITLAB={}", "glpat-" + rand(20), "GitLabTokenDetector"),
    "slack_token": ("SLACK={}", "xoxb-" + rand(12, string.digits) + "-" + rand(13, string.digits) + "-" + rand(24), "SlackDetector"),
    "stripe_key": ("stripe.api_key = '{}'", "rk_live_" + rand(40), "StripeDetector"),
    "twilio_key": ("TWILIO={}", "SK" + rand(32, HEX), "TwilioKeyDetector"),
    "sendgrid_key": ("mail = Client({!r})", "SG." + rand(22) + "." + rand(43), "SendGridDetector"),
    "pypi_token": ("password: {}", "pypi-AgENdGVzdC5weXBpLm9yZw" + rand(90), "PypiTokenDetector"),
    "npm_token": ("//registry.npmjs.org/:_authToken={}", "npm_" + rand(36), "NpmDetector"),
    "discord_token": ("bot.run('{}')", "N" + rand(24) + "." + rand(6) + "." + rand(27), "DiscordBotTokenDetector"),
    "telegram_token": ("TELEGRAM={}", "1234567890:" + rand(35), "TelegramBotTokenDetector"),
    "mailchimp_key": ("MAILCHIMP={}", rand(32, HEX) + "-us7", "MailchimpDetector"),
    "artifactory_token": ("ART {}\n", "AKCp8" + rand(60), "ArtifactoryDetector"),
    "azure_storage_key": ("Endpoint=x;{};Suffix=y", "AccountKey=" + rand(86) + "==", "AzureStorageKeyDetector"),
    "square_oauth": ("SQUARE={}", "sq0csp-" + rand(43), "SquareOAuthDetector"),
    "openai_key": ("OPENAI_API_KEY={}", "sk-" + rand(20) + "T3BlbkFJ" + rand(20), "OpenAIDetector"),
    "jwt": ("Authorization: Bearer {}", "eyJhbGciOiJIUzI1NiJ9" + ".eyJzdWIiOiIxMjM0NTY3ODkwIn0" + "." + rand(43), "JwtTokenDetector"),
}

@pytest.mark.parametrize("kind", list(PREFIXED))
def test_detect_secrets_formats_found_whole(kind):
    line, secret, plugin = PREFIXED[kind]
    text = line.format(secret)
    assert PLUGINS[plugin].analyze_line(filename="x", line=text), "the plugin itself must know this example"
    redacted, findings = FILTERS.redact(text)
    assert {f.kind for f in findings} == {kind}
    assert redacted == text.replace(secret, f"[REDACTED:{kind}]")
    assert not bench_redaction.survives(secret, redacted)

@pytest.mark.parametrize("text", [
    "XAKIA" + "IOSFODNN7EXAMPLE", "ghp_short", "glpat-short", "sk_test_" + rand(24), "ACCESS_CONTROL_LIST_FOR_ADMINS",
    "SKIP_" + rand(32, HEX), "MODEL_NAME_WITH_TWENTY_FOUR.abcdef.ghijkl", "pypi-Ag", "version 12345678:abc",
    "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.sig", "x = 'abcdefghijklmnopqrstuvwxyz'", 'cls = "Qwen2VLForConditionalGeneration"',
    "https://hooks.example.com/services/T123/B456/xyz", "sorted(items, key=lambda kv: kv[1])", "if sha == '" + rand(40, HEX) + "':",
])
def test_look_alikes_are_not_findings(text):
    assert FILTERS.scan(text) == []

def test_every_plugin_finding_is_redacted_whole():
    "On each example, whatever any detect-secrets plugin reports does not survive redaction."
    for line, secret, _ in PREFIXED.values():
        text = line.format(secret)
        redacted, _ = FILTERS.redact(text)
        for plugin in PLUGINS.values():
            for found in plugin.analyze_line(filename="x", line=text):
                value = found.secret_value
                if value and len(value) >= 8 and value in secret: assert not bench_redaction.survives(value, redacted), (plugin, value)

def test_high_entropy_tuned_limits():
    rng = random.Random(1)
    for n, alphabet, rate in [(20, string.ascii_letters + string.digits, 0.94), (32, string.ascii_letters + string.digits + "+/", 0.98),
                              (48, string.ascii_letters + string.digits + "-_", 0.99), (24, HEX, 0.99), (40, HEX, 0.999)]:
        hits = sum(_is_random("".join(rng.choices(alphabet, k=n))) for _ in range(1000))
        assert hits >= rate * 1000, (n, hits)
    for word in ["ForConditionalGeneration" * 2, "TLS_AES_256_GCM_SHA384", "x" * 30, "1234567890" * 3,
                 "HuggingFaceTB/SmolLM2-135M-Instruct"]:
        assert not _is_random(word), word
    text = f'salt = "{rand(32)}"\nSEED={rand(40, HEX)}\n'
    assert [f.kind for f in FILTERS.scan(text)] == ["high_entropy_string"] * 2

def test_triggers_start_with_a_literal_and_cover_every_detector():
    assert all(d.triggers for d in DETECTORS), "every built-in detector runs behind triggers"
    for d in DETECTORS:
        for trigger in d.triggers: _split_trigger(trigger)
    assert set(DETECTOR_NAMES) == {d.name for d in DETECTORS} | {"banned_phrase"}

# ---- actions ----

def test_actions_redact_drop_fail():
    f = SafetyFilters.from_policy({"actions": {"email": "drop", "jwt": "fail", "phone": "redact"}})
    assert f.apply_record({"a": "call (415) 555-2671"}) == ({"a": "call [REDACTED:phone]"}, {"phone": 1})
    assert f.apply_record({"a": ["x", {"b": "alice@example.com"}]}) == (None, {"email": 1})
    assert f.apply_record({"a": "nothing here", "n": 3}) == ({"a": "nothing here", "n": 3}, {})
    token = PREFIXED["jwt"][1]
    with pytest.raises(SafetyError) as e: f.apply_record({"p": "alice@example.com", "q": {"r": [f"Bearer {token}"]}}, "d/train.jsonl:7")
    message = str(e.value)
    assert "d/train.jsonl:7: q.r[0]: found jwt" in message and "actions.jwt=fail" in message  # fail wins over drop
    assert token not in message and token[:20] not in message

def test_apply_record_default_equals_redact_record_and_leaves_input():
    record = {"prompt": "mail alice@example.com", "meta": {"ip": "203.0.113.9"}}
    assert FILTERS.apply_record(record) == FILTERS.redact_record(record)
    assert record["prompt"] == "mail alice@example.com"
    with pytest.raises(TypeError, match="apply_record expects a dict"): FILTERS.apply_record(["x"])

# ---- policies as mappings ----

def test_from_dict_names_source_and_key():
    src = "configs/safety/default.yaml: policy"
    cases = [({"detector": {}}, "policy: detector: unknown key (did you mean detectors?)"),
             ({"actions": {"email": "block"}}, "actions.email: Input should be 'redact', 'drop' or 'fail'"),
             ({"actions": {"emial": "drop"}}, "actions: unknown kind 'emial' (did you mean email?)"),
             ({"detectors": {"phones": False}}, "detectors: unknown detector 'phones' (did you mean phone?)"),
             ({"banned_patterns": ["(x"]}, "banned_patterns[0] '(x' is not a valid regex"),
             ({"case_sensitive": "maybe"}, "case_sensitive: Input should be a valid boolean"),
             (["not", "a", "mapping"], "a safety policy must be a mapping, got list")]
    for data, fragment in cases:
        with pytest.raises(SafetyError) as e: SafetyPolicy.from_dict(data, src)
        assert str(e.value).startswith("configs/safety/default.yaml: policy: ") and fragment in str(e.value), str(e.value)

def test_default_policy_yaml_round_trips_and_null_means_default(tmp_path):
    text = yaml.safe_dump(SafetyPolicy().model_dump(), sort_keys=False)
    assert SafetyPolicy.from_dict(yaml.safe_load(text)) == SafetyPolicy()
    assert SafetyPolicy.from_dict({"banned_phrases": None, "actions": None}) == SafetyPolicy()
    assert SafetyPolicy.from_dict(None) == SafetyPolicy()
    path = tmp_path/"policy.yaml"
    path.write_text("actions:\n  email: drop\nbanned_phrases: [Zeus]\ncase_sensitive: true\n")
    for policy in [path, str(path), SafetyPolicy.from_yaml(path), yaml.safe_load(path.read_text())]:
        f = SafetyFilters.from_policy(policy)
        assert f.policy.actions["email"] == "drop" and f.redact("Zeus zeus")[0] == "[REDACTED:banned_phrase] zeus"
    with pytest.raises(SafetyError, match="safety.policy: actions.email"): SafetyFilters.from_policy({"actions": {"email": 1}})

# ---- recall and false positives ----

def test_recall_on_planted_secrets_and_no_false_positives():
    records = list(bench_redaction.make_records(400_000, seed=7, humaneval=None))
    found = total = 0
    missed = []
    for record in records:
        redacted, _ = FILTERS.redact(record["text"])
        assert FILTERS.redact(redacted) == (redacted, [])  # idempotent on whole records
        for p in record["planted"]:
            ok = not any(bench_redaction.survives(piece, redacted) for piece in p["pieces"])
            found += ok; total += 1
            if not ok: missed.append((p["kind"], p["form"]))
    assert total > 150 and {p["kind"] for r in records for p in r["planted"]} == set(bench_redaction.SECRETS)
    assert found / total >= 0.99, missed
    flagged = [r["task_id"] for r in humaneval_records() if FILTERS.scan(r["prompt"] + r["completion"])]
    assert len(flagged) <= math.floor(0.01 * 164), flagged

def test_pathological_inputs_take_linear_time():
    "Headers without a footer, and thousands of findings on one line, once cost quadratic time."
    import time
    for text in ["-----BEGIN RSA PRIVATE KEY-----\n" * 10_000, "a.b@c.de " * 20_000, "415 555 2671 " * 10_000]:
        start = time.perf_counter()
        redacted, findings = FILTERS.redact(text)
        assert time.perf_counter() - start < 5, text[:40]
        assert findings and FILTERS.redact(redacted) == (redacted, [])

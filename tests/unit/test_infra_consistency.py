"""infra/*.tf and cloudbuild.yaml agree with the code: every entry point of functions/main.py is
deployed, resync stays private, and every variable booking.config requires is set.

Terraform cannot run offline here (its providers are downloads), so the .tf text is read with a
small HCL-aware scanner (strings, interpolations, comments) and regexes.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from booking.config import _OPTIONAL, _REQUIRED, Settings
from scripts.functions_host import MAIN, function_names

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
CLOUDBUILD = ROOT / "cloudbuild.yaml"
# Set by the platform on every gen2 deploy; declared so Terraform plans show no drift.
PLATFORM_VARIABLES = {"LOG_EXECUTION_ID"}


# --- reading HCL -----------------------------------------------------------------------------

def _skip_string(text: str, i: int) -> int:
    """From the opening quote at i to just past the closing one, across ${...} interpolations."""
    i += 1
    while text[i] != '"':
        if text[i] == "\\":
            i += 2
        elif text.startswith(("${", "%{"), i):
            i = _skip_braces(text, i + 1)
        else:
            i += 1
    return i + 1


def _skip_braces(text: str, i: int) -> int:
    """From the "{" at i to just past its matching "}"."""
    depth = 0
    while True:
        char = text[i]
        if char == '"':
            i = _skip_string(text, i)
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1


def _uncomment(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == '"':
            end = _skip_string(text, i)
            out.append(text[i:end])
            i = end
        elif text[i] == "#":
            while i < len(text) and text[i] != "\n":
                i += 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _block(text: str, header: str) -> str:
    """The body of the first `header {...}` (header is a regex), without its braces."""
    match = re.search(header + r"\s*\{", text)
    assert match, f"no block matching {header!r} in infra/*.tf"
    start = match.end() - 1
    return text[start + 1:_skip_braces(text, start) - 1]


def _map_keys(body: str) -> list[str]:
    return re.findall(r"(?m)^\s*([A-Za-z_]\w*)\s*=", body)


def _hcl_string(literal: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)),
                  literal)


@dataclass(frozen=True)
class FunctionSettings:
    public: bool
    memory: str
    timeout: int
    cpu: str
    concurrency: int


@pytest.fixture(scope="module")
def tf() -> str:
    files = sorted(INFRA.glob("*.tf"))
    assert files, "infra/ has no .tf files"
    return "\n".join(_uncomment(path.read_text(encoding="utf-8")) for path in files)


@pytest.fixture(scope="module")
def settings(tf: str) -> dict[str, FunctionSettings]:
    found: dict[str, FunctionSettings] = {}
    for line in _block(tf, r"\bfunction_settings\s*=").splitlines():
        match = re.fullmatch(r"\s*(\w+)\s*=\s*\{(.*)\}\s*", line)
        if not match:
            continue
        fields = dict(re.findall(r'(\w+)\s*=\s*"?([^",}\s]+)"?', match.group(2)))
        found[match.group(1)] = FunctionSettings(
            public=fields["public"] == "true", memory=fields["memory"],
            timeout=int(fields["timeout"]), cpu=fields["cpu"],
            concurrency=int(fields["concurrency"]),
        )
    assert found, "local.function_settings is empty or unreadable"
    return found


@pytest.fixture(scope="module")
def function_env(tf: str) -> dict[str, str]:
    body = _block(tf, r"\bfunction_env\s*=")
    return dict(re.findall(r"(?m)^\s*([A-Z_][A-Z0-9_]*)\s*=\s*(.+?)\s*$", body))


@pytest.fixture(scope="module")
def secret_env(tf: str) -> dict[str, str]:
    body = _block(tf, r"\bsecret_env\s*=")
    return dict(re.findall(r'(?m)^\s*([A-Z_][A-Z0-9_]*)\s*=\s*"([^"]+)"', body))


def _function_resource(tf: str) -> str:
    return _block(tf, r'resource\s+"google_cloudfunctions2_function"\s+"fn"')


# --- Terraform ---------------------------------------------------------------------------------

def test_every_entry_point_of_main_has_terraform_settings(
        settings: dict[str, FunctionSettings]) -> None:
    missing = sorted(set(function_names()) - set(settings))
    assert not missing, f"add to local.function_settings in infra/functions.tf: {missing}"


def test_terraform_finds_the_same_entry_points_as_the_local_host(tf: str) -> None:
    match = re.search(r'\bentry_points\s*=\s*\[for \w+ in regexall\("((?:[^"\\]|\\.)*)",'
                      r"\s*local\.main_py\)", tf)
    assert match, "local.entry_points no longer reads main.py with regexall"
    assert re.search(r'main_py\s*=\s*file\("\$\{path\.module\}/\.\./functions/main\.py"\)', tf)
    pattern = _hcl_string(match.group(1))
    assert re.findall(pattern, MAIN.read_text(encoding="utf-8")) == function_names()


def test_every_function_is_deployed_from_main_with_its_own_entry_point(tf: str) -> None:
    resource = _function_resource(tf)
    assert re.search(r"for_each\s*=\s*local\.functions\b", resource)
    assert re.search(r"\bname\s*=\s*each\.key", resource)
    assert re.search(r"entry_point\s*=\s*each\.key", resource)
    assert re.search(r'runtime\s*=\s*"python312"', resource)
    assert re.search(r"min_instance_count\s*=\s*lookup\(var\.min_instances,\s*each\.key,\s*0\)",
                     resource)
    assert re.search(r"max_instance_count\s*=\s*var\.max_instances", resource)
    assert re.search(r'source_dir\s*=\s*"\$\{path\.module\}/\.\./functions"', tf)


def test_warm_instances_and_startup_cpu_boost_are_off_unless_asked_for(
        tf: str, cloudbuild: str) -> None:
    """They cost money while idle (min instances) or per start (boost): the owner opts in."""
    assert re.search(r"default\s*=\s*\{\s*\}", _block(tf, r'variable\s+"min_instances"'))
    assert re.search(r"default\s*=\s*false", _block(tf, r'variable\s+"startup_cpu_boost"'))
    boost = _block(tf, r'resource\s+"terraform_data"\s+"startup_cpu_boost"')
    assert re.search(r"for_each\s*=\s*var\.startup_cpu_boost\s*\?\s*local\.functions\s*:\s*\{\}",
                     boost)
    assert "--cpu-boost" in boost
    assert '_MIN_INSTANCES: ""' in cloudbuild and '_CPU_BOOST: "false"' in cloudbuild
    assert '--min-instances="$${min_instances[$$fn]:-0}"' in cloudbuild
    assert '[ "${_CPU_BOOST}" = true ]' in cloudbuild and "--cpu-boost" in cloudbuild


def test_a_persons_request_deadline_ends_well_before_the_function_is_cut_off(
        settings: dict[str, FunctionSettings]) -> None:
    """booking.deadline: the longest allowed REQUEST_DEADLINE_SECONDS (30) plus the Firestore
    commit and the answer must fit in the timeout of every function a person waits on, so a
    committed booking is answered 201 rather than killed mid-request."""
    for name in ("book", "cancel", "reschedule"):
        assert settings[name].timeout >= 2 * 30, name


def test_resync_is_not_public(settings: dict[str, FunctionSettings]) -> None:
    assert "resync" in settings
    assert settings["resync"].public is False


def test_only_functions_marked_public_get_all_users(tf: str) -> None:
    public = _block(tf, r'resource\s+"google_cloud_run_v2_service_iam_member"\s+"public"')
    assert re.search(r"for_each\s*=\s*\{[^}]*\bif\s+settings\.public\s*\}", public)
    assert re.search(r'role\s*=\s*"roles/run\.invoker"', public)
    assert re.search(r'member\s*=\s*"allUsers"', public)
    assert tf.count('"allUsers"') == 1, "allUsers may appear only in the public invoker binding"
    assert "allAuthenticatedUsers" not in tf


def test_scheduler_calls_resync_with_an_oidc_token_of_its_own_account(tf: str) -> None:
    invoker = _block(tf, r'resource\s+"google_cloud_run_v2_service_iam_member"\s+'
                         r'"scheduler_invokes_resync"')
    assert 'fn["resync"].service_config[0].service' in invoker
    assert "google_service_account.scheduler.email" in invoker
    job = _block(tf, r'resource\s+"google_cloud_scheduler_job"\s+"resync"')
    assert re.search(r"schedule\s*=\s*var\.resync_schedule", job)
    default = _block(tf, r'variable\s+"resync_schedule"')
    assert re.search(r'default\s*=\s*"\*/5 \* \* \* \*"', default)
    target = _block(job, r"\bhttp_target")
    resync_uri = 'google_cloudfunctions2_function.fn["resync"].service_config[0].uri'
    uri = re.search(r"(?m)^\s*uri\s*=\s*(\S+)", target)
    assert uri and uri.group(1) == resync_uri
    oidc = _block(target, r"\boidc_token")
    assert re.search(r"service_account_email\s*=\s*google_service_account\.scheduler\.email", oidc)
    audience = re.search(r"audience\s*=\s*(\S+)", oidc)
    assert audience and audience.group(1) == uri.group(1)


def test_every_required_config_variable_is_set_for_the_functions(
        tf: str, function_env: dict[str, str], secret_env: dict[str, str]) -> None:
    resource = _function_resource(tf)
    assert re.search(r"environment_variables\s*=\s*local\.function_env\b", resource)
    secrets = _block(resource, r'dynamic\s+"secret_environment_variables"')
    assert re.search(r"for_each\s*=\s*local\.secret_env\b", secrets)
    both = set(function_env) & set(secret_env)
    assert not both, f"set both plainly and as secrets: {sorted(both)}"
    missing = sorted(set(_REQUIRED.values()) - set(function_env) - set(secret_env))
    assert not missing, f"booking.config requires these, infra/ does not set them: {missing}"


def test_credentials_reach_the_functions_only_as_secrets(secret_env: dict[str, str]) -> None:
    assert {"SENDGRID_API_KEY", "GOOGLE_CLIENT_SECRET"} <= set(secret_env)


def test_terraform_sets_no_variable_that_config_does_not_read(
        function_env: dict[str, str], secret_env: dict[str, str]) -> None:
    known = set(_REQUIRED.values()) | set(_OPTIONAL.values()) | PLATFORM_VARIABLES
    unknown = sorted((set(function_env) | set(secret_env)) - known)
    assert not unknown, f"not read by booking.config (a typo?): {unknown}"


def test_the_generated_signing_key_is_the_secret_the_functions_read(
        tf: str, function_env: dict[str, str]) -> None:
    declared = re.search(r'\bsigning_key_secret\s*=\s*"([^"]+)"', tf)
    assert declared
    default = {f.name: f.default for f in dataclasses.fields(Settings)}["signing_key_secret"]
    assert declared.group(1) == default
    assert function_env.get("SIGNING_KEY_SECRET") == "local.signing_key_secret"
    secret = _block(tf, r'resource\s+"google_secret_manager_secret"\s+"signing_key"')
    assert re.search(r"secret_id\s*=\s*local\.signing_key_secret\b", secret)
    version = _block(tf, r'resource\s+"random_password"\s+"signing_key"')
    assert re.search(r"length\s*=\s*64\b", version)


def test_refresh_token_secrets_are_granted_by_name_prefix_only(tf: str) -> None:
    binding = _block(tf, r'resource\s+"google_project_iam_member"\s+'
                         r'"runtime_refresh_token_secrets"')
    condition = _block(binding, r"\bcondition")
    assert "/secrets/google-refresh-" in condition
    assert "data.google_project.this.number" in condition


# --- Cloud Build -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cloudbuild() -> str:
    return CLOUDBUILD.read_text(encoding="utf-8")


def test_cloud_build_deploys_each_function_with_the_terraform_settings(
        cloudbuild: str, settings: dict[str, FunctionSettings]) -> None:
    table = re.search(r"<<'SETTINGS'\n(.*?)\n\s*SETTINGS\n", cloudbuild, re.S)
    assert table, "cloudbuild.yaml lost its SETTINGS table"
    rows = {fields[0]: (fields[1], int(fields[2]), fields[3], int(fields[4]))
            for fields in (line.split() for line in table.group(1).splitlines()) if fields}
    assert rows == {name: (s.memory, s.timeout, s.cpu, s.concurrency)
                    for name, s in settings.items()}


def test_cloud_build_deploys_like_terraform(
        cloudbuild: str, tf: str, function_env: dict[str, str],
        secret_env: dict[str, str]) -> None:
    assert "--runtime=python312" in cloudbuild
    assert '--entry-point="$$fn"' in cloudbuild and 'functions deploy "$$fn"' in cloudbuild
    assert "--source=functions" in cloudbuild and "--gen2" in cloudbuild
    env = set(re.findall(r"(?:\^##\^|##)([A-Z_][A-Z0-9_]*)=", cloudbuild))
    assert env == set(function_env)
    assert re.search(r"##SIGNING_KEY_SECRET=link-signing-key\b", cloudbuild)
    assert dict(re.findall(r"([A-Z_]+)=([a-z0-9-]+):latest", cloudbuild)) == secret_env
    for resource in ("runtime", "build"):
        account = _block(tf, rf'resource\s+"google_service_account"\s+"{resource}"')
        account_id = re.search(r'account_id\s*=\s*"([^"]+)"', account)
        assert account_id and f"{account_id.group(1)}@${{PROJECT_ID}}" in cloudbuild


def test_cloud_build_runs_the_test_command_against_the_emulator(cloudbuild: str) -> None:
    assert "gcr.io/google.com/cloudsdktool/google-cloud-cli:emulators" in cloudbuild
    assert "FIRESTORE_EMULATOR_HOST=firestore-emulator:8080" in cloudbuild
    assert re.search(r"(?m)^\s*scripts/test\b", cloudbuild)
    assert re.search(r"args: \[-m, pytest, tests/unit\]", cloudbuild)

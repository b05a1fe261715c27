"""infra/*.tf and cloudbuild.yaml agree with the code: every entry point of functions/main.py is
deployed, resync stays private, and each function runs as an identity that holds exactly the
secrets, keyrings and refresh-token rights its code can reach (tests/unit/code_needs.py reads
that from the source), with exactly the variables its code reads.

Terraform cannot run offline here (its providers are downloads), so the .tf text is read with a
small HCL-aware scanner (strings, interpolations, comments) and regexes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from booking.config import _OPTIONAL, _REQUIRED, NEEDED
from scripts.functions_host import MAIN, function_names
from tests.unit.code_needs import Needs, needs_of

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
    identity: str
    env: frozenset[str]


@dataclass(frozen=True)
class Identity:
    refresh_tokens: str
    keyrings: frozenset[str]
    secrets: frozenset[str]


def _strings(literal: str) -> frozenset[str]:
    return frozenset(re.findall(r'"([^"]*)"', literal))


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
        body = match.group(2)
        env = re.search(r"\benv\s*=\s*\[([^\]]*)\]", body)
        fields = dict(re.findall(r'(\w+)\s*=\s*"?([^",}\s\[]+)"?', body))
        found[match.group(1)] = FunctionSettings(
            public=fields["public"] == "true", memory=fields["memory"],
            timeout=int(fields["timeout"]), cpu=fields["cpu"],
            concurrency=int(fields["concurrency"]), identity=fields["identity"],
            env=_strings(env.group(1)) if env else frozenset(),
        )
    assert found, "local.function_settings is empty or unreadable"
    return found


@pytest.fixture(scope="module")
def identities(tf: str) -> dict[str, Identity]:
    body = _block(tf, r"\bidentities\s*=")
    found: dict[str, Identity] = {}
    for match in re.finditer(r"(?m)^\s*([\w-]+)\s*=\s*\{", body):
        block = _block(body[match.start():], re.escape(match.group(1)) + r"\s*=")
        fields = {k: v for k, v in re.findall(r"(?m)^\s*(\w+)\s*=\s*(.+?)\s*$", block)}
        found[match.group(1)] = Identity(
            refresh_tokens=fields["refresh_tokens"].strip('"'),
            keyrings=_strings(fields["keyrings"]), secrets=_strings(fields["secrets"]))
    assert found, "local.identities is empty or unreadable"
    return found


@pytest.fixture(scope="module")
def plain_env(tf: str) -> dict[str, str]:
    body = _block(tf, r"\bplain_env\s*=")
    return dict(re.findall(r"(?m)^\s*([A-Z_][A-Z0-9_]*)\s*=\s*(.+?)\s*$", body))


@pytest.fixture(scope="module")
def secret_ids(tf: str) -> dict[str, str]:
    body = _block(tf, r"\bsecret_ids\s*=")
    return dict(re.findall(r'(?m)^\s*([A-Z_][A-Z0-9_]*)\s*=\s*"([^"]+)"', body))


@pytest.fixture(scope="module")
def needs() -> dict[str, Needs]:
    return {name: needs_of(name) for name in function_names()}


def _vars_of(settings: FunctionSettings, identity: Identity) -> set[str]:
    return {"GOOGLE_CLOUD_PROJECT", *settings.env, *identity.secrets}


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


def test_each_function_gets_the_variables_its_code_reads_and_no_others(
        tf: str, settings: dict[str, FunctionSettings], identities: dict[str, Identity],
        needs: dict[str, Needs]) -> None:
    resource = _function_resource(tf)
    assert re.search(r"environment_variables\s*=\s*local\.function_env\[each\.key\]",
                     resource)
    secrets = _block(resource, r'dynamic\s+"secret_environment_variables"')
    assert re.search(r"for_each\s*=\s*toset\(local\.identities\[each\.value\.identity\]"
                     r"\.secrets\)", secrets)
    assert re.search(r"GOOGLE_CLOUD_PROJECT\s*=\s*var\.project_id",
                     _block(tf, r"\bfunction_env\s*="))
    for name, fn in settings.items():
        wanted = {"GOOGLE_CLOUD_PROJECT", *(NEEDED[attr] for attr in needs[name].settings)}
        if "MAIL_FROM" in wanted:
            wanted.add("MAIL_FROM_NAME")  # the sender's name goes with its address
        given = _vars_of(fn, identities[fn.identity])
        assert given == wanted, (f"{name}: infra gives {sorted(given - wanted)} it does not "
                                 f"read, lacks {sorted(wanted - given)}")


def test_each_identity_holds_exactly_what_its_functions_reach(
        settings: dict[str, FunctionSettings], identities: dict[str, Identity],
        needs: dict[str, Needs]) -> None:
    assert set(identities) == {fn.identity for fn in settings.values()}, "an unused identity"
    for identity, grants in identities.items():
        members = [name for name, fn in settings.items() if fn.identity == identity]
        reach = [needs[name] for name in members]
        keyrings = set().union(*(n.keyrings for n in reach))
        refresh = set().union(*(n.refresh_tokens for n in reach))
        secret_vars = {NEEDED[a] for n in reach for a in n.settings} & {
            "GOOGLE_CLIENT_SECRET", "SENDGRID_API_KEY"}
        assert grants.keyrings == keyrings, f"{identity} ({members}): keyrings"
        assert grants.refresh_tokens == ("write" if "write" in refresh else
                                         "read" if refresh else "none"), identity
        assert grants.secrets == secret_vars, f"{identity} ({members}): secrets"
        assert all(n.firestore for n in reach)


def test_only_the_owners_side_writes_refresh_tokens(
        settings: dict[str, FunctionSettings], identities: dict[str, Identity],
        needs: dict[str, Needs]) -> None:
    # Issue 13 also asked that the push intake read no refresh token; since issue 11 the intake
    # runs the incremental sync itself, so it reads one (granted above, exactly as reached).
    for name in ("google_notifications", "availability", "book", "cancel", "reschedule",
                 "resync"):
        assert "write" not in needs[name].refresh_tokens, name
        assert identities[settings[name].identity].refresh_tokens != "write", name
    writers = {n for n, fn in settings.items()
               if identities[fn.identity].refresh_tokens == "write"}
    assert writers == {"oauth_callback", "owner"}
    assert identities[settings["oauth_start"].identity].refresh_tokens == "none"


def test_identities_get_their_grants_from_the_table(tf: str) -> None:
    account = _block(tf, r'resource\s+"google_service_account"\s+"runtime"')
    assert re.search(r"for_each\s*=\s*local\.identities\b", account)
    assert 'account_id   = "booking-${each.key}"' in account
    resource = _function_resource(tf)
    assert re.search(r"service_account_email\s*=\s*google_service_account\.runtime"
                     r"\[each\.value\.identity\]\.email", resource)
    keyring = _block(tf, r'resource\s+"google_secret_manager_secret_iam_member"\s+"reads_keyring"')
    assert re.search(r"for_each\s*=\s*local\.keyring_grants\b", keyring)
    secret = _block(tf, r'resource\s+"google_secret_manager_secret_iam_member"\s+"reads_secret"')
    assert re.search(r"for_each\s*=\s*local\.secret_grants\b", secret)
    write = _block(tf, r'resource\s+"google_project_iam_member"\s+'
                       r'"runtime_refresh_token_secrets"')
    assert 'settings.refresh_tokens == "write"' in write
    read = _block(tf, r'resource\s+"google_project_iam_member"\s+"runtime_reads_refresh_tokens"')
    assert 'settings.refresh_tokens == "read"' in read
    assert '"roles/secretmanager.secretAccessor"' in read
    # Every secretAccessor or custom-role grant names one secret or carries the prefix
    # condition: no identity may read every secret in the project.
    for match in re.finditer(r'resource\s+"google_project_iam_member"\s+"(\w+)"', tf):
        body = _block(tf, rf'resource\s+"google_project_iam_member"\s+"{match.group(1)}"')
        if "secretmanager" in body or "refresh_token_secrets" in body:
            assert "refresh_token_condition" in body, match.group(1)


def test_the_plain_variables_are_the_ones_config_reads(
        plain_env: dict[str, str], secret_ids: dict[str, str]) -> None:
    known = set(_REQUIRED.values()) | set(_OPTIONAL.values()) | PLATFORM_VARIABLES
    unknown = sorted((set(plain_env) | set(secret_ids)) - known)
    assert not unknown, f"not read by booking.config (a typo?): {unknown}"
    assert not set(plain_env) & set(secret_ids)
    assert {"SENDGRID_API_KEY", "GOOGLE_CLIENT_SECRET"} == set(secret_ids)


def test_signing_keys_are_made_out_of_band_never_in_terraform_state(tf: str) -> None:
    from booking.adapters import signing_keys

    keyrings = re.search(r"\bkeyrings\s*=\s*toset\(\[([^\]]*)\]\)", tf)
    assert keyrings and _strings(keyrings.group(1)) == set(signing_keys.PURPOSES)
    secret = _block(tf, r'resource\s+"google_secret_manager_secret"\s+"keyring"')
    assert 'secret_id = "booking-key-${each.key}"' in secret
    assert signing_keys.secret_id("links") == "booking-key-links"
    # No secret value ever passes through Terraform.
    assert "google_secret_manager_secret_version" not in tf
    assert "random_password" not in tf and "secret_data" not in tf


def test_refresh_token_secrets_are_granted_by_name_prefix_only(tf: str) -> None:
    condition = re.search(r'refresh_token_condition\s*=\s*"(.*)"\n', tf)
    assert condition and "/secrets/google-refresh-" in condition.group(1)
    assert "data.google_project.this.number" in condition.group(1)


# --- Firestore ---------------------------------------------------------------------------------

def test_firestore_security_rules_deny_everything(tf: str) -> None:
    ruleset = _block(tf, r'resource\s+"google_firebaserules_ruleset"\s+"firestore"')
    assert "allow read, write: if false;" in ruleset
    assert "allow read, write: if true" not in tf and "request.auth" not in tf
    release = _block(tf, r'resource\s+"google_firebaserules_release"\s+"firestore"')
    assert re.search(r'name\s*=\s*"cloud\.firestore"', release)


def test_every_expiring_collection_has_a_ttl_on_the_field_the_code_writes(tf: str) -> None:
    fields = dict(re.findall(r'(?m)^\s*(\w+)\s*=\s*"(\w+)"',
                             _block(tf, r"\bttl_fields\s*=")))
    assert fields == {"oauth_states": "expires_at", "sessions": "expires_at",
                      "channels": "expire_at", "outbox": "expire_at", "bookings": "expire_at"}
    package = ROOT / "functions" / "booking"
    writes = {
        "oauth_states": "adapters/firestore_owners.py", "sessions": "adapters/firestore_owners.py",
        "channels": "adapters/firestore_channels.py", "outbox": "adapters/firestore_outbox.py",
        # Only a hold waiting for confirmation by email carries it (services/booking.py).
        "bookings": "services/booking.py",
    }
    for collection, module in writes.items():
        assert f'"{fields[collection]}"' in (package / module).read_text(encoding="utf-8")
    ttl = _block(tf, r'resource\s+"google_firestore_field"\s+"ttl"')
    assert "ttl_config {}" in ttl


def test_every_collection_group_query_is_indexed_and_bookings_start_keeps_both_orders(
        tf: str) -> None:
    code = (ROOT / "functions" / "booking" / "adapters" / "firestore_bookings.py").read_text(
        encoding="utf-8")
    assert 'order_by("start", direction="DESCENDING")' in code
    assert 'collection_group("bookings")' in code and 'order_by("next_reminder_at")' in code
    # An override of bookings.start would replace its automatic (both-order) indexes.
    assert not re.search(r'collection\s*=\s*"bookings"\s*\n\s*field\s*=\s*"start"', tf)
    field = _block(
        tf, r'resource\s+"google_firestore_field"\s+"bookings_next_reminder_collection_group"')
    indexes = re.findall(r'order\s*=\s*"(\w+)"\s*\n\s*query_scope\s*=\s*"(\w+)"', field)
    assert ("ASCENDING", "COLLECTION_GROUP") in set(indexes)
    owners = (ROOT / "functions" / "booking" / "adapters" / "firestore_owners.py").read_text(
        encoding="utf-8")
    assert 'collection_group("connections")' in owners
    sub = _block(tf, r'resource\s+"google_firestore_field"\s+"connections_sub"')
    assert '"COLLECTION_GROUP"' in sub


# --- Cloud Build -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cloudbuild() -> str:
    return CLOUDBUILD.read_text(encoding="utf-8")


def test_cloud_build_deploys_each_function_with_the_terraform_settings(
        cloudbuild: str, settings: dict[str, FunctionSettings],
        identities: dict[str, Identity]) -> None:
    table = re.search(r"<<'SETTINGS'\n(.*?)\n\s*SETTINGS\n", cloudbuild, re.S)
    assert table, "cloudbuild.yaml lost its SETTINGS table"
    rows = {f[0]: (f[1], int(f[2]), f[3], int(f[4]), f[5], frozenset(f[6].split(",")),
                   frozenset() if f[7] == "-" else frozenset(f[7].split(",")))
            for f in (line.split() for line in table.group(1).splitlines()) if f}
    assert rows == {name: (s.memory, s.timeout, s.cpu, s.concurrency, s.identity, s.env,
                           identities[s.identity].secrets) for name, s in settings.items()}


def test_cloud_build_deploys_like_terraform(
        cloudbuild: str, plain_env: dict[str, str], secret_ids: dict[str, str]) -> None:
    assert "--runtime=python312" in cloudbuild
    assert '--entry-point="$$fn"' in cloudbuild and 'functions deploy "$$fn"' in cloudbuild
    assert "--source=functions" in cloudbuild and "--gen2" in cloudbuild
    values = set(re.findall(r"value\[([A-Z_]+)\]=", cloudbuild))
    assert values == set(plain_env)
    assert dict(re.findall(r"secret_id\[([A-Z_]+)\]=([a-z0-9-]+)", cloudbuild)) == secret_ids
    assert 'runtime_sa="booking-$${identity[$$fn]}@${PROJECT_ID}' in cloudbuild
    assert "booking-builds@${PROJECT_ID}" in cloudbuild


def test_cloud_build_images_are_pinned_by_digest(cloudbuild: str) -> None:
    images = re.findall(r"(?m)^\s*(?:name:|-)\s*((?:gcr\.io|python)\S*)\s*$", cloudbuild)
    assert images
    for image in images:
        assert re.search(r"@sha256:[0-9a-f]{64}$", image), f"{image} is not pinned by digest"


def test_cloud_build_runs_the_test_command_against_the_emulator(cloudbuild: str) -> None:
    assert "gcr.io/google.com/cloudsdktool/google-cloud-cli:emulators@sha256:" in cloudbuild
    assert "FIRESTORE_EMULATOR_HOST=firestore-emulator:8080" in cloudbuild
    assert re.search(r"(?m)^\s*scripts/test\b", cloudbuild)
    assert re.search(r"args: \[-m, pytest, tests/unit\]", cloudbuild)

"""The Secret Manager stand-in driven through the real google-cloud-secret-manager REST client.

Over REST the client chooses exception classes from the HTTP status alone, so a 400 is always
`BadRequest` (whether Google said INVALID_ARGUMENT or FAILED_PRECONDITION) and a 409 is always
`Conflict`; the gRPC status is in the body. `assert_rpc_error` checks both, exactly.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import secretmanager

from tests.standins.secret_manager import MAX_PAYLOAD_BYTES, SecretManagerStandin, crc32c
from tests.standins.server import StandinServer

PROJECT = "demo-secrets"
PARENT = f"projects/{PROJECT}"
State = secretmanager.SecretVersion.State
Client = secretmanager.SecretManagerServiceClient


@pytest.fixture(autouse=True)
def standin(secret_manager_server: StandinServer) -> Iterator[SecretManagerStandin]:
    app = secret_manager_server.app
    assert isinstance(app, SecretManagerStandin)
    app.reset()
    yield app


@pytest.fixture
def client(secret_manager_server: StandinServer) -> Client:
    return secretmanager.SecretManagerServiceClient(
        credentials=AnonymousCredentials(),
        transport="rest",
        client_options={"api_endpoint": secret_manager_server.url},
    )


def create(client: Client, secret_id: str) -> str:
    secret = client.create_secret(
        request={
            "parent": PARENT,
            "secret_id": secret_id,
            "secret": {"replication": {"automatic": {}}},
        }
    )
    return secret.name


def add(client: Client, name: str, data: bytes) -> secretmanager.SecretVersion:
    return client.add_secret_version(request={"parent": name, "payload": {"data": data}})


def assert_rpc_error(
    excinfo: pytest.ExceptionInfo[exceptions.GoogleAPICallError],
    http_class: type[exceptions.GoogleAPICallError],
    status: str,
    message: str,
) -> None:
    exc = excinfo.value
    assert type(exc) is http_class
    error = exc.response.json()["error"]
    assert error["status"] == status
    assert error["code"] == exc.code
    assert error["message"] == message


def test_crc32c_matches_the_castagnoli_check_value() -> None:
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(b"") == 0


def test_created_secret_has_name_replication_create_time_and_etag(client: Client) -> None:
    name = create(client, "oauth-client_secret")

    secret = client.get_secret(name=name)

    assert secret.name == f"{PARENT}/secrets/oauth-client_secret"
    assert "automatic" in secret.replication
    assert secret.create_time.year >= 2024
    assert secret.etag.startswith('"')


def test_versions_count_from_one_and_return_payload_with_crc32c(client: Client) -> None:
    name = create(client, "token")

    first = add(client, name, b"123456789")
    second = add(client, name, b"\x00\xffbinary")

    assert first.name == f"{name}/versions/1"
    assert second.name == f"{name}/versions/2"
    one = client.access_secret_version(name=f"{name}/versions/1")
    assert one.payload.data == b"123456789"
    assert one.payload.data_crc32c == 0xE3069283
    two = client.access_secret_version(name=f"{name}/versions/2")
    assert two.payload.data == b"\x00\xffbinary"
    assert two.payload.data_crc32c == crc32c(b"\x00\xffbinary")


def test_latest_resolves_to_newest_version_and_names_it(client: Client) -> None:
    name = create(client, "token")
    add(client, name, b"old")
    add(client, name, b"new")

    latest = client.access_secret_version(name=f"{name}/versions/latest")

    assert latest.name == f"{name}/versions/2"
    assert latest.payload.data == b"new"


def test_version_state_is_an_int_on_the_wire_when_the_client_asks_for_int_enums(
    client: Client, standin: SecretManagerStandin, secret_manager_server: StandinServer
) -> None:
    name = create(client, "token")
    add(client, name, b"v")
    url = f"{secret_manager_server.url}/v1/{name}/versions/1"

    version = client.get_secret_version(name=f"{name}/versions/1")
    as_ints = requests.get(url, params={"$alt": "json;enum-encoding=int"}, timeout=5).json()
    as_names = requests.get(url, timeout=5).json()

    assert version.state == State.ENABLED
    assert version.client_specified_payload_checksum is False
    assert standin.requests[-3].action == "GetSecretVersion"
    assert (as_ints["state"], as_names["state"]) == (1, "ENABLED")


def test_matching_checksum_is_accepted_and_recorded(client: Client) -> None:
    name = create(client, "token")

    version = client.add_secret_version(
        request={"parent": name, "payload": {"data": b"123456789", "data_crc32c": 0xE3069283}}
    )

    assert version.client_specified_payload_checksum is True


def test_wrong_checksum_is_invalid_argument(client: Client) -> None:
    name = create(client, "token")

    with pytest.raises(exceptions.BadRequest) as excinfo:
        client.add_secret_version(
            request={"parent": name, "payload": {"data": b"123456789", "data_crc32c": 1}}
        )

    assert_rpc_error(
        excinfo,
        exceptions.BadRequest,
        "INVALID_ARGUMENT",
        "The data_crc32c supplied with the payload does not match the payload's CRC32C.",
    )
    assert client.list_secret_versions(parent=name).total_size == 0


def test_duplicate_create_is_already_exists_raised_as_conflict(client: Client) -> None:
    create(client, "token")

    with pytest.raises(exceptions.Conflict) as excinfo:
        create(client, "token")

    assert_rpc_error(
        excinfo,
        exceptions.Conflict,
        "ALREADY_EXISTS",
        f"Secret [{PARENT}/secrets/token] already exists.",
    )
    # The trap for adapters: over REST no AlreadyExists is ever raised.
    assert not isinstance(excinfo.value, exceptions.AlreadyExists)


@pytest.mark.parametrize("secret_id", ["", "has space", "dot.ted", "ünïcode", "a" * 256])
def test_malformed_secret_id_is_invalid_argument(client: Client, secret_id: str) -> None:
    with pytest.raises(exceptions.BadRequest) as excinfo:
        create(client, secret_id)

    assert_rpc_error(
        excinfo,
        exceptions.BadRequest,
        "INVALID_ARGUMENT",
        f"The provided Secret ID [{secret_id}] does not match the expected format [[a-zA-Z_0-9]+]",
    )
    assert not isinstance(excinfo.value, exceptions.InvalidArgument)


@pytest.mark.parametrize("secret_id", ["a" * 255, "A-b_9", "x"])
def test_well_formed_secret_ids_are_accepted(
    client: Client, standin: SecretManagerStandin, secret_id: str
) -> None:
    create(client, secret_id)

    assert standin.secret_names() == [f"{PARENT}/secrets/{secret_id}"]


def test_secret_without_replication_is_invalid_argument(client: Client) -> None:
    with pytest.raises(exceptions.BadRequest) as excinfo:
        client.create_secret(request={"parent": PARENT, "secret_id": "token", "secret": {}})

    assert_rpc_error(
        excinfo, exceptions.BadRequest, "INVALID_ARGUMENT", "Secret.replication is required."
    )


def test_unknown_secret_is_not_found_for_every_operation(client: Client) -> None:
    name = f"{PARENT}/secrets/missing"
    calls = [
        lambda: client.get_secret(name=name),
        lambda: client.delete_secret(name=name),
        lambda: add(client, name, b"x"),
        lambda: client.access_secret_version(name=f"{name}/versions/1"),
        lambda: client.list_secret_versions(parent=name),
    ]
    for call in calls:
        with pytest.raises(exceptions.NotFound) as excinfo:
            call()
        assert_rpc_error(excinfo, exceptions.NotFound, "NOT_FOUND", f"Secret [{name}] not found.")


@pytest.mark.parametrize("version", ["0", "2", "abc"])
def test_unknown_version_is_not_found(client: Client, version: str) -> None:
    name = create(client, "token")
    add(client, name, b"v")

    with pytest.raises(exceptions.NotFound) as excinfo:
        client.access_secret_version(name=f"{name}/versions/{version}")

    assert_rpc_error(
        excinfo,
        exceptions.NotFound,
        "NOT_FOUND",
        f"Secret Version [{name}/versions/{version}] not found.",
    )


def test_latest_of_a_secret_without_versions_is_not_found(client: Client) -> None:
    name = create(client, "token")

    with pytest.raises(exceptions.NotFound) as excinfo:
        client.access_secret_version(name=f"{name}/versions/latest")

    assert_rpc_error(
        excinfo, exceptions.NotFound, "NOT_FOUND", f"Secret [{name}] not found or has no versions."
    )


def test_payload_of_exactly_64_kib_is_accepted_and_one_byte_more_is_invalid(client: Client) -> None:
    name = create(client, "token")

    add(client, name, b"x" * MAX_PAYLOAD_BYTES)
    with pytest.raises(exceptions.BadRequest) as excinfo:
        add(client, name, b"x" * (MAX_PAYLOAD_BYTES + 1))

    assert_rpc_error(
        excinfo,
        exceptions.BadRequest,
        "INVALID_ARGUMENT",
        "Secret payload data length must be at most [65536] bytes.",
    )
    assert client.access_secret_version(name=f"{name}/versions/latest").name.endswith("/1")


def test_empty_payload_is_invalid_argument(client: Client) -> None:
    name = create(client, "token")

    with pytest.raises(exceptions.BadRequest) as excinfo:
        add(client, name, b"")

    assert_rpc_error(
        excinfo, exceptions.BadRequest, "INVALID_ARGUMENT", "Secret Payload cannot be empty"
    )


def test_disabled_version_cannot_be_accessed_until_enabled_again(client: Client) -> None:
    name = create(client, "token")
    add(client, name, b"v1")
    version = f"{name}/versions/1"

    disabled = client.disable_secret_version(name=version)
    with pytest.raises(exceptions.BadRequest) as excinfo:
        client.access_secret_version(name=version)
    enabled = client.enable_secret_version(name=version)

    assert disabled.state == State.DISABLED
    assert_rpc_error(
        excinfo,
        exceptions.BadRequest,
        "FAILED_PRECONDITION",
        f"Secret Version [{version}] is in DISABLED state.",
    )
    assert not isinstance(excinfo.value, exceptions.FailedPrecondition)
    assert enabled.state == State.ENABLED
    assert client.access_secret_version(name=version).payload.data == b"v1"


def test_destroyed_version_is_terminal_and_unreadable(client: Client) -> None:
    name = create(client, "token")
    add(client, name, b"v1")
    version = f"{name}/versions/1"

    destroyed = client.destroy_secret_version(name=version)

    assert destroyed.state == State.DESTROYED
    assert destroyed.destroy_time.year >= 2024
    message = f"Secret Version [{version}] is in DESTROYED state."
    for call in (
        lambda: client.access_secret_version(name=version),
        lambda: client.enable_secret_version(name=version),
        lambda: client.disable_secret_version(name=version),
        lambda: client.destroy_secret_version(name=version),
    ):
        with pytest.raises(exceptions.BadRequest) as excinfo:
            call()
        assert_rpc_error(excinfo, exceptions.BadRequest, "FAILED_PRECONDITION", message)
    assert client.get_secret_version(name=version).state == State.DESTROYED


@pytest.mark.parametrize("retire", ["disable_secret_version", "destroy_secret_version"])
def test_latest_is_the_newest_version_even_when_it_is_not_enabled(
    client: Client, retire: str
) -> None:
    # Google does not fall back to an older enabled version (see the stand-in's docstring).
    name = create(client, "token")
    add(client, name, b"good")
    add(client, name, b"retired")
    getattr(client, retire)(name=f"{name}/versions/2")

    with pytest.raises(exceptions.BadRequest) as excinfo:
        client.access_secret_version(name=f"{name}/versions/latest")

    state = "DISABLED" if retire == "disable_secret_version" else "DESTROYED"
    assert_rpc_error(
        excinfo,
        exceptions.BadRequest,
        "FAILED_PRECONDITION",
        f"Secret Version [{name}/versions/2] is in {state} state.",
    )
    assert client.access_secret_version(name=f"{name}/versions/1").payload.data == b"good"


def test_stale_etag_is_failed_precondition_and_each_change_renews_it(client: Client) -> None:
    name = create(client, "token")
    original = add(client, name, b"v").etag
    version = f"{name}/versions/1"

    with pytest.raises(exceptions.BadRequest) as excinfo:
        client.disable_secret_version(request={"name": version, "etag": '"stale"'})
    disabled = client.disable_secret_version(request={"name": version, "etag": original})
    again = client.disable_secret_version(name=version)

    assert_rpc_error(
        excinfo,
        exceptions.BadRequest,
        "FAILED_PRECONDITION",
        'The etag provided ["stale"] does not match.',
    )
    assert disabled.state == State.DISABLED
    assert len({original, disabled.etag, again.etag}) == 3


def test_delete_removes_secret_and_its_versions_and_is_logged(
    client: Client, standin: SecretManagerStandin
) -> None:
    name = create(client, "token")
    add(client, name, b"v1")
    create(client, "keep")

    client.delete_secret(name=name)

    with pytest.raises(exceptions.NotFound):
        client.access_secret_version(name=f"{name}/versions/1")
    assert standin.secret_names() == [f"{PARENT}/secrets/keep"]
    deletes = [(r.name, r.status) for r in standin.requests if r.action == "DeleteSecret"]
    assert deletes == [(name, 200)]
    # The id is free again, and numbering starts over.
    create(client, "token")
    assert add(client, name, b"again").name == f"{name}/versions/1"


def test_delete_with_stale_etag_keeps_the_secret(
    client: Client, standin: SecretManagerStandin
) -> None:
    name = create(client, "token")

    with pytest.raises(exceptions.BadRequest) as excinfo:
        client.delete_secret(request={"name": name, "etag": '"stale"'})

    assert excinfo.value.response.json()["error"]["status"] == "FAILED_PRECONDITION"
    assert standin.secret_names() == [name]


def test_lists_page_through_secrets_and_versions_newest_first(client: Client) -> None:
    for secret_id in ("c", "a", "b"):
        create(client, secret_id)
    name = f"{PARENT}/secrets/a"
    for data in (b"1", b"2", b"3"):
        add(client, name, data)
    client.disable_secret_version(name=f"{name}/versions/2")

    secrets = list(client.list_secrets(request={"parent": PARENT, "page_size": 2}))
    versions = list(client.list_secret_versions(request={"parent": name, "page_size": 2}))

    assert [s.name.rsplit("/", 1)[1] for s in secrets] == ["a", "b", "c"]
    assert [(v.name.rsplit("/", 1)[1], v.state) for v in versions] == [
        ("3", State.ENABLED),
        ("2", State.DISABLED),
        ("1", State.ENABLED),
    ]


def test_secrets_of_other_projects_are_not_listed(
    client: Client, standin: SecretManagerStandin
) -> None:
    standin.put("other-project", "token", b"x")
    create(client, "mine")

    listed = [s.name for s in client.list_secrets(parent=PARENT)]

    assert listed == [f"{PARENT}/secrets/mine"]


def test_put_helper_seeds_versions_the_client_reads(
    client: Client, standin: SecretManagerStandin
) -> None:
    first = standin.put(PROJECT, "seeded", b"one")
    second = standin.put(PROJECT, "seeded", b"two")

    assert (first, second) == (
        f"{PARENT}/secrets/seeded/versions/1",
        f"{PARENT}/secrets/seeded/versions/2",
    )
    assert (
        client.access_secret_version(name=f"{PARENT}/secrets/seeded/versions/latest").payload.data
        == b"two"
    )


def test_live_version_count_counts_versions_not_destroyed(
    client: Client, standin: SecretManagerStandin
) -> None:
    name = create(client, "token")
    for data in (b"1", b"2", b"3"):
        add(client, name, data)
    client.destroy_secret_version(name=f"{name}/versions/1")
    client.disable_secret_version(name=f"{name}/versions/2")
    standin.put("other-project", "token", b"x")

    assert standin.live_version_count(name) == 2
    with pytest.raises(KeyError):
        standin.live_version_count("token")  # a bare id in two projects is ambiguous
    assert standin.live_version_count("projects/other-project/secrets/token") == 1
    standin.put(PROJECT, "solo", b"s")
    assert standin.live_version_count("solo") == 1


def test_concurrent_adds_get_distinct_consecutive_versions(
    secret_manager_server: StandinServer, client: Client
) -> None:
    name = create(client, "token")
    results: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        own = secretmanager.SecretManagerServiceClient(
            credentials=AnonymousCredentials(),
            transport="rest",
            client_options={"api_endpoint": secret_manager_server.url},
        )
        version = add(own, name, f"value-{n}".encode())
        with lock:
            results.append(version.name)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(results, key=lambda v: int(v.rsplit("/", 1)[1])) == [
        f"{name}/versions/{n}" for n in range(1, 13)
    ]


def test_unserved_path_is_a_google_style_not_found(secret_manager_server: StandinServer) -> None:
    response = requests.get(
        f"{secret_manager_server.url}/v1/projects/p/locations/x/secrets", timeout=5
    )

    assert response.status_code == 404
    assert response.json()["error"]["status"] == "NOT_FOUND"

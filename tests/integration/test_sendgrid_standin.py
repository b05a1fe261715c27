"""The SendGrid stand-in driven through the real sendgrid library (SendGridAPIClient + helpers).

Bodies the helpers refuse to build (html before text, missing from...) are sent as plain dicts,
which `SendGridAPIClient.send` posts unchanged.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from datetime import datetime
from html.parser import HTMLParser
from typing import Any

import pytest
import requests
from python_http_client import exceptions as http_exc
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import (
    Attachment,
    Bcc,
    Cc,
    ContentId,
    Disposition,
    FileContent,
    FileName,
    FileType,
    Mail,
    To,
)

from tests.standins.sendgrid import INVALID_KEY_MESSAGE, SendGridStandin
from tests.standins.server import StandinServer

HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message."


@pytest.fixture(autouse=True)
def standin(sendgrid_server: StandinServer) -> Iterator[SendGridStandin]:
    app = sendgrid_server.app
    assert isinstance(app, SendGridStandin)
    app.reset()
    yield app


@pytest.fixture
def client(sendgrid_server: StandinServer, standin: SendGridStandin) -> SendGridAPIClient:
    return SendGridAPIClient(standin.api_key, host=sendgrid_server.url)


def simple_mail(subject: str = "Your booking", to: str = "guest@example.test") -> Mail:
    return Mail(
        from_email=("bookings@example.test", "Bookings, Inc"),
        to_emails=To(to, "Guest"),
        subject=subject,
        plain_text_content="See you on Monday.",
        html_content='<p>See you on <a href="https://example.test/b/1">Monday</a>.</p>',
    )


def body(**overrides: Any) -> dict[str, Any]:
    """A valid raw Mail Send body; a key set to None is removed."""
    base: dict[str, Any] = {
        "from": {"email": "bookings@example.test"},
        "personalizations": [{"to": [{"email": "guest@example.test"}]}],
        "subject": "Hello",
        "content": [{"type": "text/plain", "value": "Hi"}],
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def errors_of(excinfo: pytest.ExceptionInfo[http_exc.HTTPError]) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = json.loads(excinfo.value.body)["errors"]
    return errors


def fields_of(excinfo: pytest.ExceptionInfo[http_exc.HTTPError]) -> list[str | None]:
    return [e["field"] for e in errors_of(excinfo)]


# --- success -----------------------------------------------------------------------------------


def test_send_is_accepted_with_empty_body_and_message_id(
    client: SendGridAPIClient, standin: SendGridStandin
) -> None:
    mail = simple_mail()

    response = client.send(mail)

    assert response.status_code == 202
    assert response.body == b""
    [message] = standin.messages()
    assert response.headers["X-Message-Id"] == message["id"]
    assert len(message["id"]) == 22
    assert message["from"] == "bookings@example.test"
    assert message["from_name"] == "Bookings, Inc"
    assert message["to"] == ["guest@example.test"]
    assert message["subject"] == "Your booking"
    assert message["text"] == "See you on Monday."
    assert message["html"].startswith("<p>See you on")
    assert message["request"] == mail.get()
    assert datetime.fromisoformat(message["received_at"]).tzinfo is not None


def test_messages_are_kept_in_arrival_order(
    client: SendGridAPIClient, standin: SendGridStandin
) -> None:
    for n in range(3):
        client.send(simple_mail(subject=f"n{n}"))

    assert [m["subject"] for m in standin.messages()] == ["n0", "n1", "n2"]
    assert len({m["id"] for m in standin.messages()}) == 3


def test_per_personalization_subjects_replace_the_top_level_one(
    client: SendGridAPIClient, standin: SendGridStandin
) -> None:
    client.send(
        body(
            subject=None,
            personalizations=[
                {"to": [{"email": "a@example.test"}], "subject": "For A"},
                {"to": [{"email": "b@example.test"}], "cc": [{"email": "c@example.test"}],
                 "subject": "For B"},
            ],
        )
    )  # fmt: skip

    [message] = standin.messages()
    assert [p["subject"] for p in message["personalizations"]] == ["For A", "For B"]
    assert message["to"] == ["a@example.test", "b@example.test"]
    assert message["cc"] == ["c@example.test"]


def test_an_address_in_two_personalizations_is_refused(
    client: SendGridAPIClient, standin: SendGridStandin
) -> None:
    """SendGrid's Mail Send errors page (twilio.com/docs/sendgrid/api-reference/mail-send/errors,
    "personalizations"): "Each unique email address in the personalizations array should only be
    included once." Nothing is sent."""
    with pytest.raises(http_exc.BadRequestsError) as excinfo:
        client.send(body(subject=None, personalizations=[
            {"to": [{"email": "a@example.test"}], "subject": "For A"},
            {"to": [{"email": "b@example.test"}], "cc": [{"email": "A@example.test"}],
             "subject": "For B"},
        ]))

    assert errors_of(excinfo) == [{
        "message": "Each unique email address in the personalizations array should only be "
        "included once. You have included [A@example.test] more than once.",
        "field": "personalizations",
        "help": HELP + "personalizations",
    }]
    assert standin.messages() == []


def test_mail_from_an_unverified_sender_is_403_with_sendgrids_body(
    client: SendGridAPIClient, standin: SendGridStandin, sendgrid_server: StandinServer
) -> None:
    """Sender verification (twilio.com/docs/sendgrid/ui/sending-email/sender-verification):
    mail leaves only from a verified Sender Identity or an authenticated domain; otherwise 403
    "The from address does not match a verified Sender Identity..." on field `from`."""
    with pytest.raises(http_exc.ForbiddenError) as excinfo:
        client.send(body(**{"from": {"email": "someone@elsewhere.test"}}))

    assert excinfo.value.status_code == 403
    assert json.loads(excinfo.value.body) == {"errors": [{
        "message": "The from address does not match a verified Sender Identity. Mail cannot be "
        "sent until this error is resolved. Visit https://sendgrid.com/docs/for-developers/"
        "sending-email/sender-identity/ to see the Sender Identity requirements",
        "field": "from", "help": None}]}
    assert standin.messages() == []
    assert "bookings@example.test" in requests.get(
        f"{sendgrid_server.url}/_control/senders", timeout=5).json()

    added = requests.post(f"{sendgrid_server.url}/_control/senders",
                          json={"email": "@elsewhere.test"}, timeout=5)
    assert added.status_code == 201
    client.send(body(**{"from": {"email": "someone@elsewhere.test"}}))
    assert len(standin.messages()) == 1


def test_concurrent_sends_are_all_captured_once(
    sendgrid_server: StandinServer, standin: SendGridStandin
) -> None:
    ids: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        own = SendGridAPIClient(standin.api_key, host=sendgrid_server.url)
        response = own.send(simple_mail(subject=f"s{n}"))
        with lock:
            ids.append(response.headers["X-Message-Id"])

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(ids) == sorted(m["id"] for m in standin.messages())
    assert len(set(ids)) == 16


# --- authorisation and faults ------------------------------------------------------------------


def test_wrong_key_is_unauthorized_with_sendgrids_body(
    sendgrid_server: StandinServer, standin: SendGridStandin
) -> None:
    wrong = SendGridAPIClient("SG.wrong", host=sendgrid_server.url)

    with pytest.raises(http_exc.UnauthorizedError) as excinfo:
        wrong.send(simple_mail())

    assert excinfo.value.status_code == 401
    assert json.loads(excinfo.value.body) == {
        "errors": [{"message": INVALID_KEY_MESSAGE, "field": None, "help": None}]
    }
    assert INVALID_KEY_MESSAGE == "The provided authorization grant is invalid, expired, or revoked"
    assert standin.messages() == []


def test_missing_authorization_header_is_unauthorized(sendgrid_server: StandinServer) -> None:
    response = requests.post(f"{sendgrid_server.url}/v3/mail/send", json=body(), timeout=5)

    assert response.status_code == 401


def test_next_n_sends_fail_with_429_then_succeed(
    client: SendGridAPIClient, standin: SendGridStandin
) -> None:
    standin.fail_next(2, 429)

    for _ in range(2):
        with pytest.raises(http_exc.TooManyRequestsError) as excinfo:
            client.send(simple_mail())
        assert excinfo.value.status_code == 429
        assert json.loads(excinfo.value.body) == {
            "errors": [{"field": None, "message": "too many requests"}]
        }
    response = client.send(simple_mail())

    assert response.status_code == 202
    assert len(standin.messages()) == 1


def test_a_hung_send_times_the_client_out_and_is_never_accepted(
    sendgrid_server: StandinServer, standin: SendGridStandin, client: SendGridAPIClient
) -> None:
    standin.hang_next(1, 1.0)

    with pytest.raises(OSError):  # the socket's read timeout (urllib may wrap it)
        client.client.mail.send.post(request_body=simple_mail().get(), timeout=0.3)
    response = requests.post(f"{sendgrid_server.url}/_control/hang", timeout=5,
                             json={"count": "x"})
    assert response.status_code == 400
    threading.Event().wait(1.0)  # the stalled request ends with a 504, unread
    assert standin.messages() == []
    assert client.send(simple_mail()).status_code == 202


@pytest.mark.parametrize(
    ("status", "error"),
    [(500, http_exc.InternalServerError), (503, http_exc.ServiceUnavailableError)],
)
def test_injected_server_errors_raise_the_librarys_classes(
    client: SendGridAPIClient,
    standin: SendGridStandin,
    status: int,
    error: type[http_exc.HTTPError],
) -> None:
    standin.fail_next(1, status)

    with pytest.raises(error) as excinfo:
        client.send(simple_mail())

    assert excinfo.value.status_code == status
    assert json.loads(excinfo.value.body)["errors"][0]["field"] is None
    assert client.send(simple_mail()).status_code == 202


def test_faults_and_reset_over_the_control_api(
    client: SendGridAPIClient, sendgrid_server: StandinServer, standin: SendGridStandin
) -> None:
    client.send(simple_mail())
    set_faults = requests.post(
        f"{sendgrid_server.url}/_control/faults", json={"count": 1, "status": 503}, timeout=5
    )
    with pytest.raises(http_exc.ServiceUnavailableError):
        client.send(simple_mail())
    requests.post(
        f"{sendgrid_server.url}/_control/faults", json={"count": 3, "status": 500}, timeout=5
    )

    reset = requests.post(f"{sendgrid_server.url}/_control/reset", timeout=5)

    assert set_faults.json() == {"count": 1, "status": 503}
    assert reset.status_code == 204
    assert standin.messages() == []
    assert client.send(simple_mail()).status_code == 202


@pytest.mark.parametrize(
    "payload", [{"count": -1}, {"count": 1, "status": 200}, {"status": 429}, {"count": "x"}]
)
def test_malformed_fault_requests_are_refused(
    sendgrid_server: StandinServer, client: SendGridAPIClient, payload: dict[str, Any]
) -> None:
    response = requests.post(f"{sendgrid_server.url}/_control/faults", json=payload, timeout=5)

    assert response.status_code == 400
    assert client.send(simple_mail()).status_code == 202


# --- validation --------------------------------------------------------------------------------


def test_missing_from_is_reported_on_from_email(client: SendGridAPIClient) -> None:
    with pytest.raises(http_exc.BadRequestsError) as excinfo:
        client.send(body(**{"from": None}))

    assert excinfo.value.status_code == 400
    [error] = errors_of(excinfo)
    assert error["field"] == "from.email"
    assert error["message"].startswith("The from object must be provided for every email send.")
    assert error["help"] == HELP + "from"


def test_every_invalid_address_is_listed_with_its_field(
    client: SendGridAPIClient, standin: SendGridStandin
) -> None:
    mail = body(
        **{"from": {"email": "not-an-address"}},
        personalizations=[
            {
                "to": [{"email": "ok@example.test"}, {"email": "bad@"}],
                "cc": [{"email": "no spaces@example.test"}],
                "bcc": [{"name": "No email"}],
            }
        ],
    )

    with pytest.raises(http_exc.BadRequestsError) as excinfo:
        client.send(mail)

    assert errors_of(excinfo) == [
        {
            "message": "The from email does not contain a valid address.",
            "field": "from.email",
            "help": HELP + "from",
        },
        {
            "message": "Does not contain a valid address.",
            "field": "personalizations.0.to.1.email",
            "help": HELP + "personalizations.to",
        },
        {
            "message": "Does not contain a valid address.",
            "field": "personalizations.0.cc.0.email",
            "help": HELP + "personalizations.cc",
        },
        {
            "message": "Does not contain a valid address.",
            "field": "personalizations.0.bcc.0.email",
            "help": HELP + "personalizations.bcc",
        },
    ]
    assert standin.messages() == []


@pytest.mark.parametrize("personalizations", [None, []])
def test_personalizations_are_required(
    client: SendGridAPIClient, personalizations: list[Any] | None
) -> None:
    with pytest.raises(http_exc.BadRequestsError) as excinfo:
        client.send(body(personalizations=personalizations))

    assert errors_of(excinfo) == [
        {
            "message": "The personalizations field is required and must have at least one "
            "personalization.",
            "field": "personalizations",
            "help": HELP + "personalizations",
        }
    ]


def test_personalization_without_to_is_refused(client: SendGridAPIClient) -> None:
    mail = body(
        personalizations=[
            {"to": [{"email": "a@example.test"}]},
            {"cc": [{"email": "b@example.test"}]},
        ]
    )

    with pytest.raises(http_exc.BadRequestsError) as excinfo:
        client.send(mail)

    [error] = errors_of(excinfo)
    assert error["field"] == "personalizations.1.to"
    assert error["message"] == (
        "The to array is required for all personalization objects, and must have at least one "
        "email object with a valid email address."
    )


def test_more_than_1000_personalizations_is_refused(client: SendGridAPIClient) -> None:
    many = [{"to": [{"email": f"g{n}@example.test"}]} for n in range(1001)]

    with pytest.raises(http_exc.BadRequestsError) as excinfo:
        client.send(body(personalizations=many))

    messages = [e["message"] for e in errors_of(excinfo)]
    assert any("You have provided 1001 personalizations" in m for m in messages)
    assert "There is a limit of 1000 total recipients (to + cc + bcc) per request." in messages


def test_exactly_1000_recipients_is_accepted_and_1001_refused(client: SendGridAPIClient) -> None:
    to = [{"email": f"g{n}@example.test"} for n in range(999)]

    ok = client.send(body(personalizations=[{"to": to, "bcc": [{"email": "x@example.test"}]}]))
    with pytest.raises(http_exc.BadRequestsError) as excinfo:
        client.send(
            body(
                personalizations=[{"to": to, "bcc": [{"email": f"{c}@example.test"} for c in "xy"]}]
            )
        )

    assert ok.status_code == 202
    assert fields_of(excinfo) == ["personalizations"]


def test_an_address_twice_in_one_personalization_is_refused(client: SendGridAPIClient) -> None:
    mail = simple_mail(to="guest@example.test")
    mail.add_bcc(Bcc("Guest@Example.test"))

    with pytest.raises(http_exc.BadRequestsError) as excinfo:
        client.send(mail)

    assert errors_of(excinfo) == [
        {
            "message": "Each email address in the personalization block should be unique "
            "between to, cc, and bcc. We found the first duplicate instance of "
            "[Guest@Example.test] in the personalizations.0.bcc field.",
            "field": "personalizations.0",
            "help": HELP + "personalizations",
        }
    ]


def test_subject_is_required_unless_every_personalization_has_one(
    client: SendGridAPIClient,
) -> None:
    partial = [
        {"to": [{"email": "a@example.test"}], "subject": "A"},
        {"to": [{"email": "b@example.test"}]},
    ]

    with pytest.raises(http_exc.BadRequestsError) as missing:
        client.send(body(subject=None, personalizations=partial))
    with pytest.raises(http_exc.BadRequestsError) as empty:
        client.send(body(subject=""))

    assert errors_of(missing) == [
        {
            "message": "The subject is required. You can get around this requirement if you use "
            "a template with a subject defined or if every personalization has a subject "
            "defined.",
            "field": "subject",
            "help": HELP + "subject",
        }
    ]
    assert errors_of(empty)[0]["message"] == (
        "The subject of your email must be a string at least one character in length."
    )


@pytest.mark.parametrize(
    ("content", "field", "message"),
    [
        (None, "content", "Unless a valid template_id is provided, the content parameter is"),
        ([], "content", "Unless a valid template_id is provided, the content parameter is"),
        (
            [{"type": "text/plain", "value": ""}],
            "content.0.value",
            "The content value must be a string at least one character in length.",
        ),
        (
            [{"type": "text/html", "value": "<p>h</p>"}, {"type": "text/plain", "value": "t"}],
            "content",
            "Following RFC 1341, section 7.2, if either text/html or text/plain are to be sent",
        ),
        (
            [{"type": "text/calendar", "value": "ICS"}, {"type": "text/html", "value": "h"}],
            "content",
            "Following RFC 1341, section 7.2",
        ),
        (
            [{"type": "text/plain", "value": "a"}, {"type": "text/plain", "value": "b"}],
            "content",
            "If present, text/plain and text/html may only be provided once.",
        ),
        (
            [{"type": "text/html; charset=utf-8", "value": "h"}],
            "content.0.type",
            "Cannot contain ';', or CRLF characters.",
        ),
        ([{"value": "no type"}], "content.0.type", "Your content type must be a string"),
    ],
)
def test_content_rules(
    client: SendGridAPIClient, content: list[Any] | None, field: str, message: str
) -> None:
    with pytest.raises(http_exc.BadRequestsError) as excinfo:
        client.send(body(content=content))

    [error] = errors_of(excinfo)
    assert error["field"] == field
    assert error["message"].startswith(message)


def test_text_then_html_then_other_types_is_accepted(
    client: SendGridAPIClient, standin: SendGridStandin
) -> None:
    content = [
        {"type": "text/plain", "value": "t"},
        {"type": "text/html", "value": "<b>h</b>"},
        {"type": "text/calendar", "value": "BEGIN:VCALENDAR"},
    ]

    client.send(body(content=content))

    [message] = standin.messages()
    assert (message["text"], message["html"]) == ("t", "<b>h</b>")


def test_recipient_names_with_comma_or_semicolon_are_refused_but_from_names_are_not(
    client: SendGridAPIClient,
) -> None:
    mail = body(
        **{"from": {"email": "b@example.test", "name": "Bookings, Inc"}},
        personalizations=[
            {
                "to": [{"email": "a@example.test", "name": "Doe, Jane"}],
                "cc": [{"email": "c@example.test", "name": "Ops; Team"}],
            }
        ],
    )

    with pytest.raises(http_exc.BadRequestsError) as excinfo:
        client.send(mail)

    assert fields_of(excinfo) == ["personalizations.0.to.0.name", "personalizations.0.cc.0.name"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"subject": "Hello\r\nBcc: victim@example.test"}, "subject"),
        (
            {"personalizations": [{"to": [{"email": "a@example.test", "name": "A\nB"}]}]},
            "personalizations.0.to.0.name",
        ),
        ({"from": {"email": "b@example.test", "name": "B\rC"}}, "from.name"),
        ({"headers": {"X-Booking": "1\r\nBcc: x@example.test"}}, "headers"),
        ({"headers": {"Subject": "override"}}, "headers"),
        ({"reply_to": {"email": "nope"}}, "reply_to.email"),
    ],
)
def test_header_injection_and_bad_headers_are_refused(
    client: SendGridAPIClient, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(http_exc.BadRequestsError) as excinfo:
        client.send(body(**overrides))

    assert fields_of(excinfo) == [field]


def test_body_over_30_mb_is_payload_too_large(
    client: SendGridAPIClient, standin: SendGridStandin
) -> None:
    mail = simple_mail()
    big = base64.b64encode(b"\0" * (23 * 1024 * 1024)).decode()  # about 30.7 MiB as base64
    mail.attachment = Attachment(FileContent(big), FileName("big.bin"), FileType("application/pdf"))

    with pytest.raises(http_exc.PayloadTooLargeError) as excinfo:
        client.send(mail)

    assert excinfo.value.status_code == 413
    assert standin.messages() == []


def test_invalid_json_and_invalid_utf8_are_refused(
    sendgrid_server: StandinServer, standin: SendGridStandin
) -> None:
    url = f"{sendgrid_server.url}/v3/mail/send"
    auth = {"Authorization": f"Bearer {standin.api_key}", "Content-Type": "application/json"}

    not_json = requests.post(url, data=b"{nope", headers=auth, timeout=5)
    not_utf8 = requests.post(url, data=b'{"subject": "\xff"}', headers=auth, timeout=5)

    assert not_json.status_code == 400
    assert not_utf8.status_code == 415
    assert not_utf8.json()["errors"][0]["message"] == "Invalid UTF8 in request"


# --- attachments -------------------------------------------------------------------------------


def test_attachments_round_trip_through_messages_json_and_download(
    client: SendGridAPIClient, sendgrid_server: StandinServer, standin: SendGridStandin
) -> None:
    pdf = bytes(range(256)) * 4
    ics = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    mail = simple_mail()
    mail.add_attachment(
        Attachment(
            FileContent(base64.b64encode(pdf).decode()),
            FileName("receipt ü.pdf"),
            FileType("application/pdf"),
            Disposition("attachment"),
        )
    )
    mail.add_attachment(
        Attachment(
            FileContent(base64.b64encode(ics).decode()),
            FileName("invite.ics"),
            FileType("text/calendar"),
            Disposition("inline"),
            ContentId("invite"),
        )
    )

    client.send(mail)

    [message] = standin.messages()
    # The helpers prepend each added attachment; the stand-in keeps the request's order.
    sent_order = [a["filename"] for a in mail.get()["attachments"]]
    assert [a["filename"] for a in message["attachments"]] == sent_order
    by_name = {a["filename"]: a for a in message["attachments"]}
    assert (by_name["receipt ü.pdf"]["content"], by_name["receipt ü.pdf"]["disposition"]) == (
        pdf,
        "attachment",
    )
    assert (by_name["invite.ics"]["content"], by_name["invite.ics"]["disposition"]) == (
        ics,
        "inline",
    )
    listed = {
        a["filename"]: a
        for a in requests.get(f"{sendgrid_server.url}/_mailbox.json", timeout=5).json()[0][
            "attachments"
        ]
    }
    assert base64.b64decode(listed["receipt ü.pdf"]["content_base64"]) == pdf
    assert (listed["receipt ü.pdf"]["content"], listed["receipt ü.pdf"]["size"]) == (None, len(pdf))
    assert listed["invite.ics"]["content"] == ics.decode()
    assert listed["invite.ics"]["content_id"] == "invite"
    index = sent_order.index("receipt ü.pdf")
    download = requests.get(
        f"{sendgrid_server.url}/_mailbox/{message['id']}/attachments/{index}", timeout=5
    )
    assert download.content == pdf
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"] == (
        "attachment; filename*=UTF-8''receipt%20%C3%BC.pdf"
    )
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_unknown_attachment_is_not_found(
    client: SendGridAPIClient, sendgrid_server: StandinServer, standin: SendGridStandin
) -> None:
    client.send(simple_mail())
    message_id = standin.messages()[0]["id"]

    past_end = requests.get(f"{sendgrid_server.url}/_mailbox/{message_id}/attachments/0", timeout=5)
    no_message = requests.get(f"{sendgrid_server.url}/_mailbox/nope/attachments/0", timeout=5)

    assert (past_end.status_code, no_message.status_code) == (404, 404)


def test_every_attachment_problem_is_listed(client: SendGridAPIClient) -> None:
    attachments = [
        {"content": "not base64!", "filename": "a.txt"},
        {"content": "aGk="},
        {"content": "aGk=", "filename": "b.txt", "disposition": "sideways"},
        {"content": "aGk=", "filename": "c.png", "disposition": "inline"},
        {"content": "", "filename": "d;e.txt", "type": "text/plain; charset=x"},
    ]

    with pytest.raises(http_exc.BadRequestsError) as excinfo:
        client.send(body(attachments=attachments))

    assert [(e["field"], e["message"]) for e in errors_of(excinfo)] == [
        ("attachments.0.content", "The attachment content must be base64 encoded."),
        ("attachments.1.filename", "filename is required."),
        (
            "attachments.2.disposition",
            'The disposition of your attachment can be either "inline" or "attachment". '
            "You provided sideways.",
        ),
        (
            "attachments.3.content_id",
            "The content_id parameter is required when the disposition is inline.",
        ),
        (
            "attachments.4.content",
            "The attachment content must be a string at least one character in length.",
        ),
        (
            "attachments.4.filename",
            "The filename of your attachment cannot contain CRLF characters.",
        ),
        ("attachments.4.type", "The type cannot contain ';', or CRLF characters."),
    ]


# --- mailbox -----------------------------------------------------------------------------------


class _Page(HTMLParser):
    """Collects what a browser would show: text outside frames, and each iframe's attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.iframes: list[dict[str, str | None]] = []
        self.links: list[dict[str, str | None]] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "iframe":
            self.iframes.append(dict(attrs))
        elif tag == "a":
            self.links.append(dict(attrs))
        elif tag == "script":
            self.scripts += 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_mailbox_json_lists_decoded_messages_in_order(
    client: SendGridAPIClient, sendgrid_server: StandinServer
) -> None:
    first = simple_mail(subject="First")
    first.add_cc(Cc("boss@example.test"))
    client.send(first)
    client.send(simple_mail(subject="Second"))

    listed = requests.get(f"{sendgrid_server.url}/_mailbox.json", timeout=5).json()

    assert [(m["subject"], m["to"], m["cc"]) for m in listed] == [
        ("First", ["guest@example.test"], ["boss@example.test"]),
        ("Second", ["guest@example.test"], []),
    ]
    assert listed[0]["text"] == "See you on Monday."
    assert listed[0]["request"]["subject"] == "First"


def test_mailbox_page_shows_every_email_escaped_with_html_in_a_sandbox(
    client: SendGridAPIClient, sendgrid_server: StandinServer, standin: SendGridStandin
) -> None:
    hostile_subject = "<script>alert('subject')</script> & more"
    html_part = (
        '<p onclick="x()">Open <a href="https://example.test/b?x=1&y=2">your booking</a></p>'
        "<script>alert('html')</script>"
    )
    mail = Mail(
        from_email=("bookings@example.test", "<b>Bookings</b>"),
        to_emails="guest@example.test",
        subject=hostile_subject,
        plain_text_content="Plain <i>text</i> & ampersand",
        html_content=html_part,
    )
    mail.add_attachment(
        Attachment(FileContent("aGk="), FileName('<img src=x>"q".txt'), FileType("text/plain"))
    )
    client.send(mail)
    client.send(simple_mail(subject="Older? no, newer"))

    response = requests.get(f"{sendgrid_server.url}/_mailbox", timeout=5)
    page = _Page()
    page.feed(response.text)

    assert response.headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert page.scripts == 0
    assert "<script>" not in response.text
    assert "&lt;script&gt;alert(&#x27;subject&#x27;)&lt;/script&gt; &amp; more" in response.text
    shown = "".join(page.text)
    assert hostile_subject in shown
    assert "<b>Bookings</b> <bookings@example.test>" in shown
    assert "Plain <i>text</i> & ampersand" in shown
    assert shown.index("Older? no, newer") < shown.index(hostile_subject)  # newest first
    [_, frame] = page.iframes  # newest first
    sandbox = (frame["sandbox"] or "").split()
    assert "allow-scripts" not in sandbox and "allow-same-origin" not in sandbox
    assert "allow-popups" in sandbox
    assert frame["srcdoc"] == '<base target="_blank">' + html_part
    [download] = [a for a in page.links if (a.get("href") or "").endswith("/attachments/0")]
    assert download["download"] == '<img src=x>"q".txt'
    assert download["href"] == f"/_mailbox/{standin.messages()[0]['id']}/attachments/0"


def test_empty_mailbox_page_says_so(sendgrid_server: StandinServer) -> None:
    response = requests.get(f"{sendgrid_server.url}/_mailbox", timeout=5)

    assert response.status_code == 200
    assert "No messages yet." in response.text

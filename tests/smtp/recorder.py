"""An aiosmtpd handler for the SMTP transport's tests (tests/api/smtp.rs).

    python3 -m aiosmtpd -n -l 127.0.0.1:PORT -c recorder.Recorder DIR   (with tests/smtp on PYTHONPATH)

Every accepted message is parsed with Python's own e-mail package (not the code under test) and
written to DIR as one JSON file: envelope, decoded headers, and each leaf part decoded (content
type, filename, text). Recipients whose mailbox starts with `refused` get a permanent 550, those
starting with `busy` a temporary 451, and senders starting with `locked` the 535 of a refused
login, so the tests can check how refusals are classified.
"""

import email
import email.policy
import json
import os
import uuid


class Recorder:
    def __init__(self, directory):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 1:
            parser.error("Recorder takes one argument: the directory to write messages to")
        return cls(args[0])

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        # A relay that refuses this login's sender answers as an authentication failure would.
        if address.split("@", 1)[0].lower().startswith("locked"):
            return "535 5.7.8 Authentication credentials invalid"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        mailbox = address.split("@", 1)[0].lower()
        if mailbox.startswith("refused"):
            return "550 5.1.1 <%s>: recipient address rejected: no such user" % address
        if mailbox.startswith("busy"):
            return "451 4.3.0 <%s>: mailbox busy, try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        message = email.message_from_bytes(raw, policy=email.policy.default)
        parts = []
        for part in message.walk():
            if part.is_multipart():
                continue
            payload = part.get_payload(decode=True) or b""
            charset = part.get_content_charset() or "utf-8"
            parts.append(
                {
                    "content_type": part.get_content_type(),
                    "params": {k: v for k, v in part.get_params() or []},
                    "filename": part.get_filename(),
                    "disposition": part.get_content_disposition(),
                    "body": payload.decode(charset, errors="replace"),
                }
            )
        record = {
            "helo": session.host_name,
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "headers": [[name, str(value)] for name, value in message.items()],
            "content_type": message.get_content_type(),
            "parts": parts,
        }
        name = uuid.uuid4().hex
        temporary = os.path.join(self.directory, "." + name + ".tmp")
        with open(temporary, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        # Renamed once complete: the test never reads half a file.
        os.rename(temporary, os.path.join(self.directory, name + ".json"))
        return "250 2.0.0 Ok: queued as " + name

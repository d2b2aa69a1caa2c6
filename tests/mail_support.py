"""A mail server owned by a test: a small SMTP server on 127.0.0.1 that refuses while told to, then accepts.

``refusing = "421"`` closes each connection at once with "421 service not available" (smtplib raises
SMTPConnectError); ``"451"`` greets, then answers MAIL FROM with "451 try again later" (SMTPSenderRefused);
``None`` accepts every message and keeps it in ``messages``. ``attempts`` counts the connections.
"""

import email
import socketserver
import threading
from dataclasses import dataclass
from email.message import Message


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: Message


class FakeSmtpServer:
    def __init__(self, *, refusing: str | None = None):
        self.refusing = refusing
        self.messages: list[Received] = []
        self.attempts = 0
        self.lock = threading.Lock()
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Session)
        self.server.daemon_threads = True
        self.server.owner = self
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-smtp", daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def __enter__(self) -> "FakeSmtpServer":
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.server.server_close()

    def received_by(self, address: str) -> list[Received]:
        with self.lock:
            return [received for received in self.messages if address in received.recipients]


class _Session(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        owner: FakeSmtpServer = self.server.owner
        with owner.lock:
            owner.attempts += 1
            refusing = owner.refusing
        if refusing == "421":
            self._reply("421 4.3.2 Service not available, closing channel")
            return
        self._reply("220 fake-smtp ESMTP")
        sender, recipients = "", []
        while line := self.rfile.readline():
            command = line.decode("ascii", "replace").rstrip("\r\n")
            verb = command[:4].upper()
            if verb == "EHLO":
                self._reply("250-fake-smtp\r\n250 8BITMIME")
            elif verb == "HELO" or verb in ("NOOP", "RSET"):
                sender, recipients = ("", []) if verb == "RSET" else (sender, recipients)
                self._reply("250 OK")
            elif verb == "MAIL":
                if refusing == "451":
                    self._reply("451 4.3.0 Mail server temporarily unavailable, try again later")
                    continue
                sender = _address(command)
                self._reply("250 OK")
            elif verb == "RCPT":
                recipients.append(_address(command))
                self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 End data with <CR><LF>.<CR><LF>")
                received = Received(sender, recipients, email.message_from_bytes(self._data()))
                with owner.lock:
                    owner.messages.append(received)
                sender, recipients = "", []
                self._reply("250 OK queued")
            elif verb == "QUIT":
                self._reply("221 Bye")
                return
            else:
                self._reply("502 Command not implemented")

    def _data(self) -> bytes:
        lines = []
        while (line := self.rfile.readline()) not in (b".\r\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)
        return b"".join(lines)

    def _reply(self, text: str) -> None:
        self.wfile.write(f"{text}\r\n".encode())


def _address(command: str) -> str:
    return command.split(":", 1)[1].strip().split()[0].strip("<>")

"""A private, real IMAP server on loopback for the mail intake tests: Debian's dovecot
(``dovecot-imapd``, installed by ``.ci/run``), started once per test session.

Everything it needs is in its own temporary folder (configuration, sockets, state, logs,
maildirs), and it listens on a free port of 127.0.0.1 without TLS, so it never meets a
system dovecot (whose ports are 143 and 993). Any user name logs in with ``PASSWORD`` (a
static passdb), so each test takes a mailbox of its own by its user name.

Dovecot 2.3 and 2.4 spell their settings differently; the version decides which file is
written. A missing dovecot fails the tests that need it, in CI and anywhere else: email to
tickets is not a feature tests may skip.
"""

import getpass
import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from imap_tools import AND, MailBoxUnencrypted
from imap_tools.errors import ImapToolsError

from bench.server import free_port

DOVECOT = "/usr/sbin/dovecot"
PASSWORD = "imap-test-password"  # a throwaway server's only password


def dovecot_version():
    """``(major, minor)`` of the installed dovecot."""
    out = subprocess.run([DOVECOT, "--version"], capture_output=True, text=True, check=True)
    major, minor = out.stdout.split()[0].split(".")[:2]
    return int(major), int(minor)


def _users():
    """Who dovecot's processes and mail run as: Debian's own users when we are root (it
    will not give mail to root), else the current user for all of them."""
    if os.geteuid() == 0:
        def exists(name):
            try:
                pwd.getpwnam(name)
                return True
            except KeyError:
                return False
        internal = "dovecot" if exists("dovecot") else "nobody"
        login = "dovenull" if exists("dovenull") else "nobody"
        return internal, login, "nobody"
    me = getpass.getuser()
    return me, me, me


def _config_2_3(folder, port, internal, login, mail_user):
    """dovecot.conf in 2.3's words (Debian 12)."""
    return f"""
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_login_user = {login}
mail_location = maildir:{folder}/mail/%u
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={pwd.getpwnam(mail_user).pw_gid} home={folder}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


def _config_2_4(folder, port, internal, login, mail_user):
    """dovecot.conf in 2.4's words (Debian 13 on): versioned, cleartext allowed by name."""
    return f"""
dovecot_config_version = 2.4.0
dovecot_storage_version = 2.4.0
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = no
auth_allow_cleartext = yes
auth_mechanisms = plain login
default_internal_user = {internal}
default_login_user = {login}
mail_driver = maildir
mail_path = {folder}/mail/%{{user}}
passdb static {{
  password = {PASSWORD}
}}
userdb static {{
  fields {{
    uid = {mail_user}
    gid = {pwd.getpwnam(mail_user).pw_gid}
    home = {folder}/mail/%{{user}}
  }}
}}
service imap-login {{
  inet_listener imap {{
    listen = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


class ImapServer:
    """One dovecot, started by ``start`` and stopped by ``stop``, in a folder of its own.

    The folder is made here, not by pytest: as root, the mail is stored by ``nobody``, who
    must be able to pass through every folder above it (pytest's are for root alone).
    """

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="helpdesk-dovecot-"))
        self.folder.chmod(0o711)
        self.port = free_port()
        self.process = None

    def start(self):
        """Write the configuration for the installed version and start dovecot in the
        foreground of a child process; wait until it answers."""
        if not os.path.exists(DOVECOT):
            pytest.fail("dovecot is not installed (apt-get install dovecot-imapd; .ci/run "
                        "does it): the mail intake tests need a real IMAP server")
        internal, login, mail_user = _users()
        mail = self.folder / "mail"
        mail.mkdir(parents=True, exist_ok=True)
        shutil.chown(mail, user=mail_user)
        write = _config_2_4 if dovecot_version() >= (2, 4) else _config_2_3
        config = self.folder / "dovecot.conf"
        config.write_text(write(self.folder, self.port, internal, login, mail_user))
        self.process = subprocess.Popen(  # our own binary and config
            [DOVECOT, "-F", "-c", str(config)], stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with self.mailbox("probe"):
                    return self
            except OSError:  # not listening yet
                time.sleep(0.1)
            except (ImapToolsError, imaplib.IMAP4.error) as error:  # answers, serves no mail
                log = self.folder / "dovecot.log"
                log = log.read_text() if log.exists() else ""
                self.stop()
                pytest.fail(f"dovecot on 127.0.0.1:{self.port} cannot serve mail: {error}\n{log}")
        output = self.process.stdout.read().decode() if self.process.poll() is not None else ""
        log = self.folder / "dovecot.log"
        log = log.read_text() if log.exists() else ""
        self.stop()
        pytest.fail(f"dovecot did not start on 127.0.0.1:{self.port}: {output}{log}")

    def stop(self):
        """Stop our dovecot (only ours: the child we started)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        shutil.rmtree(self.folder, ignore_errors=True)

    def mailbox(self, user):
        """A logged-in imap-tools mailbox of ``user`` (use it in a ``with``)."""
        return MailBoxUnencrypted("127.0.0.1", self.port, timeout=10).login(user, PASSWORD)

    def new_user(self):
        """A user name no test has used: an empty mailbox of its own."""
        return f"desk-{uuid.uuid4().hex[:10]}"


class Mailbox:
    """One test's mailbox on the server: append messages, count what is unseen."""

    def __init__(self, server, user):
        self.server, self.user = server, user

    def append(self, *raw_messages):
        """Put messages in the INBOX as a mail server delivers them (unseen)."""
        with self.server.mailbox(self.user) as box:
            for raw in raw_messages:
                box.append(raw, "INBOX")

    def unseen(self):
        """How many messages the desk has not marked seen."""
        with self.server.mailbox(self.user) as box:
            return len(box.uids(AND(seen=False)))

    def count(self):
        """How many messages the INBOX holds."""
        with self.server.mailbox(self.user) as box:
            return len(box.uids())

    def settings(self):
        """The app settings that point the desk at this mailbox."""
        return {"IMAP_HOST": "127.0.0.1", "IMAP_PORT": self.server.port, "IMAP_SSL": False,
                "IMAP_STARTTLS": False, "IMAP_USERNAME": self.user,
                "IMAP_PASSWORD": PASSWORD, "IMAP_FOLDER": "INBOX"}

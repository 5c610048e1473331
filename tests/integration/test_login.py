"""Every login a real server accepts (issue 14 point 1), one test per shape, on both
listeners, with the HandshakeResponse41 written byte by byte (rawlogin.py):

* CLIENT_PLUGIN_AUTH with no plugin name after a caching_sha2_password scramble: MySQL
  reads the missing name as "" and switches to the account's plugin
  (sql_authentication.cc parse_client_handshake_packet), so the MySQL listener answers
  with an AuthSwitchRequest; MariaDB takes the data as a native scramble (sql_acl.cc,
  "some clients lie"), so the MariaDB listener checks it as one;
* an empty or unknown plugin name: switched to the listener's plugin;
* CLIENT_PLUGIN_AUTH off: the 4.1 native scramble, accepted without a switch;
* connect attributes;
* a wrong password in each shape is ERR 1045, as before.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_login.py
"""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))
sys.path.insert(0, HERE)

import cluster  # noqa: E402
import rawlogin  # noqa: E402
from rawlogin import BASE_CAPS, CLIENT_PLUGIN_AUTH, CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA  # noqa: E402
from rawlogin import NATIVE, SHA2  # noqa: E402

PLUGIN_CAPS = BASE_CAPS | CLIENT_PLUGIN_AUTH | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA


@pytest.fixture(scope="module")
def relay(tmp_path_factory):
    """tirelay with both listeners over a few simulated transactions."""
    base = tmp_path_factory.mktemp("login")
    truth = cluster.MariaDB(str(base / "truth"), server_id=1).start()
    sim = relay_ = None
    try:
        truth.create_user("tidb", "tidbpw")
        sim = cluster.TidbSim(str(base / "sim"), truth, seed=3, rows=20, fake_interval=1.0).start()
        relay_ = cluster.Tirelay(str(base / "tirelay"), sim.pumps, sim.cluster_id, truth.port,
                                 mariadb_listen=True).start()
        yield relay_
    finally:
        if relay_ is not None:
            relay_.stop()
        if sim is not None:
            sim.stop()
        truth.stop()


def ports(relay):
    return {"mysql": relay.port, "mariadb": relay.mariadb_port}


@pytest.mark.parametrize("listener", ["mysql", "mariadb"])
def test_greeting_plugins(relay, listener):
    c = rawlogin.Raw(ports(relay)[listener])
    assert c.plugin == (SHA2 if listener == "mysql" else NATIVE)
    c.close()


def test_plugin_auth_without_name_mysql_switches(relay):
    """The driver of issue 14: a caching_sha2_password scramble and no plugin name. MySQL
    switches to the account's plugin (the listener's caching_sha2_password), and the
    answer to the fresh nonce logs in on the fast path."""
    c = rawlogin.Raw(relay.port)
    assert c.login("repl", "pw", caps=PLUGIN_CAPS, plugin=SHA2, send_plugin=False), c.err
    assert c.events == ["switch:" + SHA2, "fast", "ok"]
    assert c.query("SELECT 1")[1] == [["1"]]
    c.close()


def test_plugin_auth_without_name_mariadb_is_native(relay):
    """MariaDB reads a missing name as the 4.1 native scramble: checked at once."""
    c = rawlogin.Raw(relay.mariadb_port)
    assert c.login("repl", "pw", caps=PLUGIN_CAPS, plugin=NATIVE, send_plugin=False), c.err
    assert c.events == ["ok"]
    c.close()
    # ... so a caching_sha2_password scramble there is a wrong password, as on MariaDB.
    c = rawlogin.Raw(relay.mariadb_port)
    assert not c.login("repl", "pw", caps=PLUGIN_CAPS, plugin=SHA2, send_plugin=False)
    assert c.err[0] == 1045
    c.close()


@pytest.mark.parametrize("listener", ["mysql", "mariadb"])
@pytest.mark.parametrize("name", ["", "client_ed25519", "sha256_password"])
def test_empty_or_unknown_plugin_switches(relay, listener, name):
    c = rawlogin.Raw(ports(relay)[listener])
    greeting = c.plugin
    # The data answers no plugin we serve: whatever it holds, the server switches.
    assert c.login("repl", "pw", caps=PLUGIN_CAPS, plugin=name, auth=b"\x01" * 20), c.err
    assert c.events[0] == "switch:" + greeting
    assert c.events[-1] == "ok"
    c.close()


@pytest.mark.parametrize("listener", ["mysql", "mariadb"])
def test_pre_plugin_native_scramble(relay, listener):
    """CLIENT_PLUGIN_AUTH off: the 4.1 native scramble in a 1-byte-length field, no switch
    possible, accepted as mysql_native_password."""
    c = rawlogin.Raw(ports(relay)[listener])
    assert c.login("repl", "pw", caps=BASE_CAPS, plugin=NATIVE), c.err
    assert c.events == ["ok"]
    assert c.query("SELECT CURRENT_USER()")[1][0][0].startswith("repl@")
    c.close()
    c = rawlogin.Raw(ports(relay)[listener])
    assert not c.login("repl", "wrong", caps=BASE_CAPS, plugin=NATIVE)
    assert c.err[0] == 1045 and "using password: YES" in c.err[1]
    c.close()


@pytest.mark.parametrize("listener", ["mysql", "mariadb"])
def test_connect_attributes(relay, listener):
    c = rawlogin.Raw(ports(relay)[listener])
    attrs = {"_client_name": "rawlogin", "_pid": "4242", "program_name": "tirelay-test",
             "long": "x" * 300}
    assert c.login("repl", "pw", caps=PLUGIN_CAPS, plugin=c.plugin, attrs=attrs), c.err
    assert c.events[-1] == "ok" and not any(e.startswith("switch") for e in c.events)
    c.close()


@pytest.mark.parametrize("listener", ["mysql", "mariadb"])
def test_switch_to_other_known_plugin(relay, listener):
    """A client answering with the other plugin we serve is switched to it (fresh nonce)."""
    c = rawlogin.Raw(ports(relay)[listener])
    other = NATIVE if c.plugin == SHA2 else SHA2
    assert c.login("repl", "pw", caps=PLUGIN_CAPS, plugin=other), c.err
    assert c.events[0] == "switch:" + other and c.events[-1] == "ok"
    c.close()


@pytest.mark.parametrize("listener", ["mysql", "mariadb"])
def test_wrong_password_each_shape(relay, listener):
    shapes = [dict(caps=PLUGIN_CAPS, plugin=SHA2, send_plugin=False),
              dict(caps=PLUGIN_CAPS, plugin=""),
              dict(caps=PLUGIN_CAPS, plugin=NATIVE),
              dict(caps=BASE_CAPS, plugin=NATIVE)]
    for kw in shapes:
        c = rawlogin.Raw(ports(relay)[listener])
        assert not c.login("repl", "not-the-password", **kw), kw
        assert c.err[0] == 1045, (kw, c.err)
        c.close()

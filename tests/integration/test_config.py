"""tirelay --check-config as an operator runs it: every file in conf/ passes,
broken files exit with 2 and name every error (file, line, key, accepted
values) on stderr, one per line."""

import glob
import os
import subprocess

import cluster

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def check(path):
    p = subprocess.run([cluster.tirelay_bin(), "--config", str(path), "--check-config"],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def test_shipped_files_pass():
    files = sorted(glob.glob(os.path.join(REPO, "conf", "*.cnf")))
    assert len(files) >= 2
    for f in files:
        rc, out, err = check(f)
        assert rc == 0, (f, err)
        assert "configuration ok" in out


def test_every_error_reported(tmp_path):
    f = tmp_path / "broken.cnf"
    f.write_text("[server]\n"
                 "listen = 127.0.0.1:99999\n"         # 2: port out of range
                 "server-uuid = not-a-uuid\n"         # 3
                 "colour = blue\n"                    # 4: unknown key
                 "[users]\n"
                 "repl = pw\n"
                 "[upstream]\n"
                 "pumps = 127.0.0.1:8250\n"
                 "tidb = root:s3cret@nowhere\n"       # 9: bad DSN, password never echoed
                 "[storage]\n"                        # 10: unknown section
                 "dir = /tmp/x\n"
                 "[store]\n"
                 "sync = always\n"                    # 13
                 "expire-logs-seconds = -5\n"         # 14
                 "max-binlog-total-size = 1T\n")      # 15
    rc, out, err = check(f)
    assert rc == 2
    assert out == ""
    lines = [line for line in err.splitlines() if line.startswith("tirelay: configuration error:")]
    want = [
        "%s:2: [server] listen: expected host:port" % f,
        "%s:3: [server] server-uuid: expected a UUID like" % f,
        "%s:4: [server] colour: unknown key (known: listen, mariadb-listen," % f,
        "%s:9: [upstream] tidb: expected user:password@host:port" % f,
        "%s:10: [storage]: unknown section (known: server, users, upstream, store" % f,
        "%s:13: [store] sync: expected commit or none, got 'always'" % f,
        "%s:14: [store] expire-logs-seconds: expected seconds" % f,
        "%s:15: [store] max-binlog-total-size: expected bytes" % f,
    ]
    for w in want:
        assert any(w in line for line in lines), (w, err)
    # the tidb DSN's failure from validation ("set tidb ...") comes too: it is unset
    assert any("[upstream] tidb: set tidb" in line for line in lines), err
    assert len(lines) == len(want) + 1, err
    assert "s3cret" not in err
    assert "%s: %d configuration errors" % (f, len(lines)) in err


def test_syntax_and_missing(tmp_path):
    f = tmp_path / "syntax.cnf"
    f.write_text("pumps = 1.2.3.4:5\n[server\nlisten\n")
    rc, _, err = check(f)
    assert rc == 2
    assert "%s:1: pumps: key outside any [section]" % f in err
    assert "%s:2: syntax error: section header without ']'" % f in err
    assert "%s:3: syntax error: expected [section] or key = value" % f in err

    rc, _, err = check(tmp_path / "absent.cnf")
    assert rc == 2
    assert "cannot open" in err

    p = subprocess.run([cluster.tirelay_bin(), "--check-config"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 2 and "--config FILE is required" in p.stderr


def test_ticdc_inputs_checked(tmp_path):
    """The TiCDC keys: one input only, a topic with the brokers, [kafka] properties checked by
    librdkafka itself with their line (a value is never echoed: it may be a password)."""
    f = tmp_path / "cdc.cnf"
    f.write_text("[server]\n"
                 "listen = 127.0.0.1:3306\n"
                 "[users]\n"
                 "repl = pw\n"
                 "[upstream]\n"
                 "ticdc-kafka = 127.0.0.1:9092\n"
                 "ticdc-topic = tidb-cdc\n"
                 "tidb = root:pw@127.0.0.1:4000\n"
                 "[kafka]\n"
                 "security.protocol = SASL_SSL\n"             # 10: accepted
                 "sasl.password = hunter2-secret\n"           # 11: accepted
                 "no.such.property = hunter3-secret\n"        # 12: librdkafka refuses it
                 "enable.auto.commit = true\n")               # 13: tirelay owns the offsets
    rc, out, err = check(f)
    assert rc == 2, err
    lines = [line for line in err.splitlines() if line.startswith("tirelay: configuration error:")]
    assert any("%s:12: [kafka] no.such.property" % f in line for line in lines), err
    assert any("%s:13: [kafka] enable.auto.commit" % f in line for line in lines), err
    assert not any(":10:" in line or ":11:" in line for line in lines), err
    assert "hunter" not in err
    f.write_text(f.read_text().replace("no.such.property = hunter3-secret\n", "")
                 .replace("enable.auto.commit = true\n", "")
                 + "[upstream]\npumps = 127.0.0.1:8250\n")
    rc, out, err = check(f)
    assert rc == 2 and "set only one input" in err, err

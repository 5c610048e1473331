"""Issue 6 point 7: the Debian package.

scripts/package.sh builds the .deb (or $TIRELAY_DEB names one already built). The test
unpacks it into a throw-away root with `dpkg -x` (nothing is installed on the machine),
then checks: the layout (binary, /etc/tirelay/tirelay.cnf as a conffile readable by
root and the tirelay group only, the systemd unit, docs), the maintainer scripts
(postinst creates the system user), that Depends names the Debian package of every
shared library the binary needs, that the installed binary accepts the installed
configuration (--check-config) and really starts with it (data and ports moved to
the test's directory), and `systemd-analyze verify` / `security` on the unit.
Run: /usr/bin/python3 -m pytest -q tests/integration/test_package.py
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))

import cluster  # noqa: E402
from conftest import wait_until  # noqa: E402

# Libraries every tirelay links, by Debian runtime package (Debian 12 names).
EXPECTED_DEPENDS = ["adduser", "libc6", "libuv1", "libssl3", "libsqlite3-0", "libmariadb3",
                    "libgrpc29", "libnghttp2-14", "libmicrohttpd12", "libinih1", "libcurl4", "libjansson4",
                    "zlib1g"]


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=kw.pop("timeout", 120), **kw)


@pytest.fixture(scope="module")
def deb():
    path = os.environ.get("TIRELAY_DEB")
    if not path:
        r = run(["bash", os.path.join(REPO, "scripts", "package.sh")], timeout=1800)
        assert r.returncode == 0, "package.sh failed:\n%s\n%s" % (r.stdout, r.stderr)
        path = r.stdout.strip().splitlines()[-1]
    assert os.path.isfile(path) and path.endswith(".deb"), path
    return path


def field(deb_path, name):
    r = run(["dpkg-deb", "-f", deb_path, name])
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def depends_packages(deb_path):
    return {re.split(r"[ (]", d.strip())[0] for d in field(deb_path, "Depends").split(",")}


def test_layout_and_control(deb, tmp_path):
    root = str(tmp_path / "root")
    r = run(["dpkg-deb", "-x", deb, root])
    assert r.returncode == 0, r.stderr
    assert field(deb, "Package") == "tirelay"
    for rel in ("usr/bin/tirelay", "etc/tirelay/tirelay.cnf",
                "usr/lib/systemd/system/tirelay.service",
                "usr/share/doc/tirelay/tirelay.cnf.example", "usr/share/doc/tirelay/README.md"):
        assert os.path.isfile(os.path.join(root, rel)), rel
    assert os.access(os.path.join(root, "usr/bin/tirelay"), os.X_OK)
    # The configuration holds passwords: not world-readable.
    assert os.stat(os.path.join(root, "etc/tirelay/tirelay.cnf")).st_mode & 0o777 == 0o640

    ctl = str(tmp_path / "control")
    r = run(["dpkg-deb", "-e", deb, ctl])
    assert r.returncode == 0, r.stderr
    with open(os.path.join(ctl, "conffiles")) as f:
        assert f.read().split() == ["/etc/tirelay/tirelay.cnf"]
    with open(os.path.join(ctl, "postinst")) as f:
        postinst = f.read()
    assert "adduser --system --group" in postinst and "tirelay" in postinst
    assert "chown root:tirelay /etc/tirelay/tirelay.cnf" in postinst
    for script in ("postinst", "prerm", "postrm"):
        assert os.access(os.path.join(ctl, script), os.X_OK), script
        r = run(["sh", "-n", os.path.join(ctl, script)])
        assert r.returncode == 0, (script, r.stderr)


def test_depends_cover_every_library(deb, tmp_path):
    deps = depends_packages(deb)
    for p in EXPECTED_DEPENDS:
        assert p in deps, "Depends lacks %s: %s" % (p, sorted(deps))
    root = str(tmp_path / "root")
    assert run(["dpkg-deb", "-x", deb, root]).returncode == 0
    binary = os.path.join(root, "usr/bin/tirelay")
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]",
                        run(["readelf", "-d", binary]).stdout)
    assert needed
    ldcache = run(["ldconfig", "-p"]).stdout
    for soname in needed:
        m = re.search(r"^\s+%s \(libc6,x86-64[^)]*\) => (\S+)$" % re.escape(soname), ldcache, re.M)
        assert m, "%s not in the linker cache" % soname
        owner = run(["dpkg", "-S", os.path.realpath(m.group(1))])
        if owner.returncode != 0:  # merged /usr: dpkg knows the /lib path
            owner = run(["dpkg", "-S", os.path.realpath(m.group(1)).replace("/usr/lib/", "/lib/", 1)])
        assert owner.returncode == 0, (soname, owner.stderr)
        pkg = owner.stdout.split(":")[0]
        assert pkg in deps, "%s comes from %s, not in Depends %s" % (soname, pkg, sorted(deps))


def test_installed_binary_runs_with_installed_config(deb, tmp_path):
    root = str(tmp_path / "root")
    assert run(["dpkg-deb", "-x", deb, root]).returncode == 0
    binary = os.path.join(root, "usr/bin/tirelay")
    conf = os.path.join(root, "etc/tirelay/tirelay.cnf")
    r = run([binary, "--version"])
    assert r.returncode == 0 and r.stdout.startswith("tirelay " + field(deb, "Version")), r.stdout
    r = run([binary, "--config", conf, "--check-config"])
    assert r.returncode == 0, r.stdout + r.stderr
    assert "configuration ok" in r.stdout
    with open(conf) as f:
        text = f.read()
    assert re.search(r"^dir = /var/lib/tirelay$", text, re.M)

    # Start it for real with that file, moved to this test's ports and directory.
    port, mport = cluster.free_port(), cluster.free_port()
    text = re.sub(r"^dir = .*$", "dir = %s" % (tmp_path / "data"), text, flags=re.M)
    text = re.sub(r"^listen = 127.0.0.1:3307$", "listen = 127.0.0.1:%d" % port, text, flags=re.M)
    text = re.sub(r"^listen = 127.0.0.1:9105$", "listen = 127.0.0.1:%d" % mport, text, flags=re.M)
    text = re.sub(r"^pumps = .*$", "pumps = 127.0.0.1:%d" % cluster.free_port(), text, flags=re.M)
    moved = str(tmp_path / "tirelay.cnf")
    with open(moved, "w") as f:
        f.write(text)
    log = open(str(tmp_path / "tirelay.log"), "w")
    proc = subprocess.Popen([binary, "--config", moved], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        def up():
            assert proc.poll() is None, "installed tirelay exited with %s" % proc.returncode
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % mport, timeout=5) as r:
                    return r.status == 200 and b"tirelay_build_info" in r.read()
            except OSError:
                return False
        wait_until(up, 30, what="installed tirelay serving /metrics")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    assert os.path.isdir(str(tmp_path / "data" / "binlog" / "mysql"))


def test_systemd_unit(deb, tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze is missing (Debian package systemd)")
    root = str(tmp_path / "root")
    assert run(["dpkg-deb", "-x", deb, root]).returncode == 0
    with open(os.path.join(root, "usr/lib/systemd/system/tirelay.service")) as f:
        unit = f.read()
    for line in ("User=tirelay", "StateDirectory=tirelay", "NoNewPrivileges=yes",
                 "ProtectSystem=strict", "ReadWritePaths=/var/lib/tirelay", "Restart=on-failure",
                 "ExecStart=/usr/bin/tirelay --config /etc/tirelay/tirelay.cnf"):
        assert re.search("^%s$" % re.escape(line), unit, re.M), line
    # verify checks the unit against this systemd; it also wants the ExecStart binary to
    # exist, so point it at the unpacked one.
    udir = tmp_path / "unit"
    udir.mkdir()
    with open(str(udir / "tirelay.service"), "w") as f:
        f.write(unit.replace("/usr/bin/tirelay", os.path.join(root, "usr/bin/tirelay")))
    r = run(["systemd-analyze", "verify", str(udir / "tirelay.service")])
    assert r.returncode == 0 and r.stderr.strip() == "", r.stderr
    r = run(["systemd-analyze", "security", "--offline=yes", str(udir / "tirelay.service")])
    m = re.search(r"Overall exposure level for tirelay.service: ([\d.]+)", r.stdout)
    assert m and float(m.group(1)) <= 3.0, r.stdout[-2000:]


def test_cmake_install_layout(deb, tmp_path):
    """`cmake --install` of the package build (prefix /usr) into a DESTDIR: the same layout
    as the .deb; another prefix gets a unit naming that prefix's paths."""
    build = os.path.dirname(os.path.abspath(deb))
    dest = str(tmp_path / "dest")
    r = run(["cmake", "--install", build], env=dict(os.environ, DESTDIR=dest))
    assert r.returncode == 0, r.stderr
    for rel in ("usr/bin/tirelay", "etc/tirelay/tirelay.cnf",
                "usr/lib/systemd/system/tirelay.service"):
        assert os.path.isfile(os.path.join(dest, rel)), rel
    with open(os.path.join(dest, "usr/lib/systemd/system/tirelay.service")) as f, \
            open(os.path.join(REPO, "conf", "tirelay.service")) as g:
        assert f.read() == g.read()

    other = str(tmp_path / "opt-build")
    r = run(["cmake", "-S", REPO, "-B", other, "-DCMAKE_INSTALL_PREFIX=/opt/tirelay",
             "-DTR_BUILD_TESTS=OFF"], timeout=300)
    assert r.returncode == 0, r.stderr
    with open(os.path.join(other, "gen", "tirelay.service")) as f:
        unit = f.read()
    assert "ExecStart=/opt/tirelay/bin/tirelay --config /opt/tirelay/etc/tirelay/tirelay.cnf\n" in unit
    assert "/usr/bin/tirelay" not in unit

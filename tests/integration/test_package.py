"""Issue 6 point 7: the Debian package.

scripts/package.sh builds the .deb (or $TIRELAY_DEB names one already built). The test
unpacks it into a throw-away root with `dpkg -x` (nothing is installed on the machine),
then checks: the layout (binary, /etc/tirelay/tirelay.cnf as a conffile readable by
root and the tirelay group only, the systemd unit, docs), the maintainer scripts
(postinst creates the system user), that Depends names the Debian package of every
shared library the binary needs, that the installed binary accepts the installed
configuration (--check-config) and really starts with it (data and ports moved to
the test's directory), and `systemd-analyze verify` / `security` on the unit. Then it
installs the package for real with dpkg (root; CI machines are throw-away), runs the
installed binary as the service user the postinst created, and purges it.
Run: /usr/bin/python3 -m pytest -q tests/integration/test_package.py
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

import pymysql
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "sim"))

import cluster  # noqa: E402
from conftest import wait_until  # noqa: E402

# Libraries every tirelay links, by Debian runtime package (Debian 12 names).
EXPECTED_DEPENDS = ["adduser", "libc6", "libuv1", "libssl3", "libsqlite3-0", "libmariadb3",
                    "libnghttp2-14", "libmicrohttpd12", "libinih1", "libcurl4", "libjansson4",
                    "libdeflate0"]
# gRPC core is not linked (Notify is served on our own HTTP/2, relay/h2_server.c), and with it
# went absl, re2, c-ares, libprotobuf and the C++ runtime.
UNWANTED_DEPENDS = re.compile(r"^(libgrpc|libgrpc\+\+|libabsl|libre2|libc-ares|libprotobuf\d|libstdc\+\+)")
UNWANTED_SONAMES = re.compile(r"^(libgrpc|libgpr|libupb|libaddress_sorting|libabsl_|libre2|libcares|"
                              r"libprotobuf\.|libstdc\+\+)")


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


def move_ports(text):
    """The installed configuration with its listeners (MySQL, metrics) and its Pump moved to
    free loopback ports: (text, port, metrics port)."""
    port, mport = cluster.free_port(), cluster.free_port()
    text = re.sub(r"^listen = 127.0.0.1:3307$", "listen = 127.0.0.1:%d" % port, text, flags=re.M)
    text = re.sub(r"^listen = 127.0.0.1:9105$", "listen = 127.0.0.1:%d" % mport, text, flags=re.M)
    text = re.sub(r"^pumps = .*$", "pumps = 127.0.0.1:%d" % cluster.free_port(), text, flags=re.M)
    return text, port, mport


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
    unwanted = sorted(d for d in deps if UNWANTED_DEPENDS.match(d))
    assert not unwanted, "Depends names gRPC core or its C++ dependencies: %s" % unwanted
    root = str(tmp_path / "root")
    assert run(["dpkg-deb", "-x", deb, root]).returncode == 0
    binary = os.path.join(root, "usr/bin/tirelay")
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]",
                        run(["readelf", "-d", binary]).stdout)
    assert needed
    # Nothing loaded at run time either (ldd follows the libraries' own dependencies).
    loaded = [line.split()[0] for line in run(["ldd", binary]).stdout.splitlines() if line.strip()]
    unwanted = [so for so in needed + loaded if UNWANTED_SONAMES.match(os.path.basename(so))]
    assert not unwanted, "the binary loads gRPC core or the C++ runtime: %s" % unwanted
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
    text = re.sub(r"^dir = .*$", "dir = %s" % (tmp_path / "data"), text, flags=re.M)
    text, port, mport = move_ports(text)
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


def test_dpkg_install_start_purge(deb, tmp_path):
    """Installs the .deb on this machine with dpkg (as an operator would on a fresh Debian 12;
    CI runs as root on a throw-away machine), starts the installed binary as the unit does
    (user tirelay, the installed configuration with its data directory made the way
    systemd's StateDirectory= makes it; only the ports moved to free ones), and purges it."""
    assert os.geteuid() == 0, "installing a package needs root (CI runs as root)"
    pre = run(["dpkg-query", "-W", "-f=${Status}", "tirelay"])
    assert "ok installed" not in pre.stdout, \
        "a tirelay package is already installed here; this test installs and purges its own"
    had_user = run(["getent", "passwd", "tirelay"]).returncode == 0
    state = "/var/lib/tirelay"
    had_state = os.path.exists(state)
    rundir = None
    proc = None
    try:
        r = run(["dpkg", "-i", deb], timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "install ok installed" in run(["dpkg-query", "-W", "-f=${Status}", "tirelay"]).stdout
        pw = run(["getent", "passwd", "tirelay"])
        assert pw.returncode == 0, "postinst did not create the tirelay user"
        uid = int(pw.stdout.split(":")[2])
        gid = int(pw.stdout.split(":")[3])
        st = os.stat("/etc/tirelay/tirelay.cnf")
        assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (0, gid, 0o640)
        r = run(["/usr/bin/tirelay", "--version"])
        assert r.returncode == 0 and r.stdout.startswith("tirelay " + field(deb, "Version"))
        as_user = ["setpriv", "--reuid=tirelay", "--regid=tirelay", "--init-groups", "--"]
        r = run(as_user + ["/usr/bin/tirelay", "--config", "/etc/tirelay/tirelay.cnf",
                           "--check-config"])
        assert r.returncode == 0 and "configuration ok" in r.stdout, r.stdout + r.stderr

        # StateDirectory=tirelay: systemd creates /var/lib/tirelay owned by the user.
        if not had_state:
            os.mkdir(state, 0o750)
        os.chown(state, uid, gid)
        with open("/etc/tirelay/tirelay.cnf") as f:
            text = f.read()
        text, port, mport = move_ports(text)
        # A directory the service user can reach (pytest's tmp_path is private to root).
        rundir = tempfile.mkdtemp(prefix="tirelay-pkg-")
        os.chmod(rundir, 0o755)
        moved = os.path.join(rundir, "tirelay.cnf")
        with open(moved, "w") as f:
            f.write(text)
        os.chown(moved, 0, gid)
        os.chmod(moved, 0o640)
        log = open(str(tmp_path / "installed.log"), "w")
        proc = subprocess.Popen(as_user + ["/usr/bin/tirelay", "--config", moved], stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)

        def up():
            assert proc.poll() is None, "installed tirelay exited with %s: %s" % (
                proc.returncode, open(str(tmp_path / "installed.log")).read()[-2000:])
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % mport,
                                            timeout=5) as resp:
                    return resp.status in (200, 503)
            except urllib.error.HTTPError as e:
                return e.code == 503
            except OSError:
                return False
        wait_until(up, 30, what="the installed tirelay answering /healthz")
        with open("/proc/%d/status" % proc.pid) as f:
            uids = re.search(r"^Uid:\s+(\d+)", f.read(), re.M).group(1)
        assert int(uids) == uid, "tirelay runs as uid %s, not the tirelay user" % uids
        conn = pymysql.connect(host="127.0.0.1", port=port, user="repl", password="change-me",
                               connect_timeout=10)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT @@server_id")
                assert cur.fetchone()[0] == 1
        finally:
            conn.close()
        owner = os.stat(os.path.join(state, "binlog", "mysql")).st_uid
        assert owner == uid, "the binlog directory is not the service user's"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        log.close()
        proc = None

        r = run(["dpkg", "--purge", "tirelay"], timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
        assert not os.path.exists("/usr/bin/tirelay")
        assert not os.path.exists("/etc/tirelay/tirelay.cnf")
        # Kept on purge by design (postrm): binlogs a replica may still need.
        assert os.path.isdir(os.path.join(state, "binlog"))
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        if "ok installed" in run(["dpkg-query", "-W", "-f=${Status}", "tirelay"]).stdout:
            run(["dpkg", "--purge", "tirelay"], timeout=300)
        if rundir:
            shutil.rmtree(rundir, ignore_errors=True)
        if not had_state:
            shutil.rmtree(state, ignore_errors=True)
        if not had_user:
            run(["deluser", "--system", "tirelay"])

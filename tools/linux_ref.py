"""Linux 6.12 as the reference kernel: find or fetch Debian's cloud kernel.

linux_kernel() returns the path of a vmlinuz-6.12.* (Debian's
linux-image-6.12.*-cloud-amd64-unsigned, the newest that apt-cache lists),
fetched with apt-get download + dpkg -x and cached in ~/.cache/keel/linux,
or None when it cannot be had. host_tsc_khz() and linux_append() give the
command-line parameters Linux needs outside -icount (see
shared/reference-linux.md: without tsc_early_khz= and tsc=reliable the cloud
kernel can hang at boot under software emulation).
"""
import glob
import os
import re
import subprocess
import tempfile

CACHE = os.path.expanduser("~/.cache/keel/linux")
PACKAGE_RE = r"^linux-image-6\.12.*-cloud-amd64-unsigned$"


def _cached():
    found = glob.glob(os.path.join(CACHE, "boot", "vmlinuz-6.12.*"))
    return sorted(found, key=_version_key)[-1] if found else None


def _version_key(name):
    """Sort key that orders 6.12.9 before 6.12.117."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", os.path.basename(name))]


def linux_kernel(quiet=True):
    """Path of the cached (or freshly fetched) Linux 6.12 vmlinuz, or None."""
    found = _cached()
    if found:
        return found
    os.makedirs(CACHE, exist_ok=True)
    search = ["apt-cache", "search", "--names-only", PACKAGE_RE]
    names = subprocess.run(search, capture_output=True, text=True).stdout.split()
    pkgs = [n for n in names if re.match(PACKAGE_RE, n)]
    if not pkgs:
        # apt-cache finds nothing before the first apt-get update.
        subprocess.run(["apt-get", "update"], capture_output=True)
        names = subprocess.run(search, capture_output=True, text=True).stdout.split()
        pkgs = [n for n in names if re.match(PACKAGE_RE, n)]
    if not pkgs:
        return None
    pkg = sorted(pkgs, key=_version_key)[-1]
    if not quiet:
        print("linux_ref: fetching %s into %s" % (pkg, CACHE), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run(["apt-get", "download", pkg], cwd=tmp, capture_output=True)
        debs = glob.glob(os.path.join(tmp, "*.deb"))
        if r.returncode != 0 or not debs:
            return None
        subprocess.run(["dpkg", "-x", debs[0], CACHE], check=True)
    return _cached()


def host_tsc_khz():
    """The host's CPU frequency in kHz (from /proc/cpuinfo 'cpu MHz'), or None."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("cpu MHz"):
                    return int(float(line.split(":")[1]) * 1000)
    except (OSError, ValueError, IndexError):
        pass
    return None


def linux_append(base="console=ttyS0 quiet panic=-1"):
    """Linux's command line outside -icount: base + tsc_early_khz=... tsc=reliable."""
    khz = host_tsc_khz()
    extra = " tsc_early_khz=%d" % khz if khz else ""
    return base + extra + " tsc=reliable"

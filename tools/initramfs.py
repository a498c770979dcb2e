"""Writes initramfs images: cpio "newc" archives as the kernel unpacks them
(directories, regular files, symlinks and device nodes, with modes)."""

import gzip


class Archive:
    def __init__(self):
        self._out = bytearray()
        self._ino = 1

    def _entry(self, name, mode, data=b"", rdev=(0, 0), nlink=1):
        nb = name.encode() + b"\0"
        hdr = "070701" + "".join("%08x" % v for v in (
            self._ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1], len(nb), 0))
        self._out += hdr.encode() + nb
        self._out += b"\0" * (-len(self._out) % 4)
        self._out += data
        self._out += b"\0" * (-len(self._out) % 4)
        self._ino += 1

    def dir(self, name, mode=0o755):
        self._entry(name, 0o040000 | mode, nlink=2)

    def file(self, name, data, mode=0o755):
        self._entry(name, 0o100000 | mode, data)

    def symlink(self, name, target):
        self._entry(name, 0o120777, target.encode())

    def chardev(self, name, major, minor, mode=0o600):
        self._entry(name, 0o020000 | mode, rdev=(major, minor))

    def bytes(self, compress=False):
        trailer = Archive()
        trailer._ino = self._ino
        trailer._entry("TRAILER!!!", 0)
        data = bytes(self._out + trailer._out)
        return gzip.compress(data, mtime=0) if compress else data


def newc_cpio(files):
    """A cpio 'newc' archive of {name: bytes}, every file executable."""
    a = Archive()
    for name, data in files.items():
        a.file(name, data)
    return a.bytes()

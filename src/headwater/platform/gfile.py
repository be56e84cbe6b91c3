"""`tf.gfile` / `tf.io.gfile`: local-filesystem versions of TF's file helpers.

Writes through `GFile(..., "w")` go to a temporary file that replaces the target on close, so
a crash never leaves a half-written file behind.
"""

import glob as _glob
import os as _os
import shutil as _shutil
import tempfile as _tempfile

from headwater.framework import errors as _errors


class GFile:
    """`open()`-like file object (TF1's tf.gfile.GFile / tf.gfile.Open)."""

    def __init__(self, name, mode="r"):
        self.name = name
        self.mode = mode
        self._final = None
        if "w" in mode:
            d = _os.path.dirname(_os.path.abspath(name))
            fd, tmp = _tempfile.mkstemp(dir=d, prefix="." + _os.path.basename(name) + ".tmp")
            _os.close(fd)
            self._final = name
            self._f = open(tmp, mode)
        else:
            if "r" in mode and not _os.path.exists(name):
                raise _errors.NotFoundError(None, None, "%s; No such file or directory" % name)
            self._f = open(name, mode)

    def __getattr__(self, attr):
        return getattr(self._f, attr)

    def __iter__(self):
        return iter(self._f)

    def size(self):
        return _os.fstat(self._f.fileno()).st_size

    def close(self):
        if self._f.closed:
            return
        if self._final is not None:
            self._f.flush()
            _os.fsync(self._f.fileno())
            tmp = self._f.name
            self._f.close()
            _os.replace(tmp, self._final)
        else:
            self._f.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and self._final is not None:
            tmp = self._f.name
            self._f.close()
            _os.unlink(tmp)
            return False
        self.close()
        return False


Open = GFile
FastGFile = GFile


def Exists(path):  # noqa: N802 - TF1 spelling
    return _os.path.exists(path)


def IsDirectory(path):  # noqa: N802
    return _os.path.isdir(path)


def MakeDirs(path):  # noqa: N802
    _os.makedirs(path, exist_ok=True)


def MkDir(path):  # noqa: N802
    _os.mkdir(path)


def ListDirectory(path):  # noqa: N802
    if not _os.path.isdir(path):
        raise _errors.NotFoundError(None, None, "Could not find directory %s" % path)
    return _os.listdir(path)


def Glob(pattern):  # noqa: N802
    return _glob.glob(pattern)


def Remove(path):  # noqa: N802
    try:
        _os.remove(path)
    except FileNotFoundError:
        raise _errors.NotFoundError(None, None, "%s; No such file or directory" % path)


def DeleteRecursively(path):  # noqa: N802
    if not _os.path.exists(path):
        raise _errors.NotFoundError(None, None, "%s; No such file or directory" % path)
    if _os.path.isdir(path):
        _shutil.rmtree(path)
    else:
        _os.remove(path)


def Copy(oldpath, newpath, overwrite=False):  # noqa: N802
    if not overwrite and _os.path.exists(newpath):
        raise _errors.AlreadyExistsError(None, None, "file already exists: %s" % newpath)
    _shutil.copyfile(oldpath, newpath)


def Rename(oldname, newname, overwrite=False):  # noqa: N802
    if not overwrite and _os.path.exists(newname):
        raise _errors.AlreadyExistsError(None, None, "file already exists: %s" % newname)
    _os.replace(oldname, newname)


def Stat(path):  # noqa: N802
    st = _os.stat(path)

    class _Stat:
        length = st.st_size
        mtime_nsec = st.st_mtime_ns
        is_directory = _os.path.isdir(path)
    return _Stat()


def Walk(top, in_order=True):  # noqa: N802
    for root, dirs, files in _os.walk(top):
        yield root, dirs, files


# tf.io.gfile spellings
exists = Exists
isdir = IsDirectory
makedirs = MakeDirs
mkdir = MkDir
listdir = ListDirectory
glob = Glob
remove = Remove
rmtree = DeleteRecursively
copy = Copy
rename = Rename
stat = Stat
walk = Walk

"""vcenter-reporter: collect vCenter state, check it, and report what to fix."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vcenter-reporter")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+src"

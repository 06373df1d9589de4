"""Package list for setuptools (everything else is in pyproject.toml).

``templates/`` and ``samples/`` sit at the top of the source tree but install as
``reporter/templates`` and ``reporter/samples`` (mapped in ``[tool.setuptools.package-dir]``);
setuptools' ``find`` directive cannot add such mapped packages, so they are listed here.
"""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["reporter", "reporter.*"]), "reporter.templates", "reporter.samples"])

"""Packs the zoo (models/: weights and cards) and the target profiles (targets/) into the wheel as package data
(edgeemo/_zoo, edgeemo/_targets), so a non-editable install has them; a checkout reads them in place."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

PACKAGE_DATA = {"models": ("edgeemo/_zoo", ("*.pt", "*.json")), "targets": ("edgeemo/_targets", ("*.yaml",))}


class BuildWithZoo(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads models/ and targets/ from the checkout
        for source, (dest, patterns) in PACKAGE_DATA.items():
            target = Path(self.build_lib) / dest
            target.mkdir(parents=True, exist_ok=True)
            for pattern in patterns:
                for path in sorted(Path(source).glob(pattern)):
                    shutil.copyfile(path, target / path.name)


setup(cmdclass={"build_py": BuildWithZoo})

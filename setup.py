"""The egg that scrapyd-deploy builds (it runs `setup.py bdist_egg`); metadata lives in pyproject.toml."""

from setuptools import setup

setup()

"""Shared fixtures of the pytest suite (run by CTest, label python, with PYTHONPATH=<build>/python)."""

import os

import pytest

SOURCE_DIR = os.environ.get("SCALELAB_SOURCE_DIR",
                            os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


@pytest.fixture
def source_dir():
    return SOURCE_DIR


@pytest.fixture
def shakespeare(source_dir):
    return os.path.join(source_dir, "data", "tinyshakespeare.txt")


@pytest.fixture
def paper_csv(source_dir):
    return os.path.join(source_dir, "data", "chinchilla_paper_runs.csv")

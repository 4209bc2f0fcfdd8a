"""scalelab.account: the same numbers as `scalelab account --json` (the CLI's golden outputs)."""

import json
import os

import pytest

import scalelab


def test_presets_match_the_cli_golden(source_dir):
    for preset in ("gpt2-small", "llama-7b", "cs336-tinystories"):
        with open(os.path.join(source_dir, "tests", "data", "golden", f"account_{preset}.json")) as f:
            want = json.load(f)
        got = scalelab.account(preset)
        assert got["params"] == want["params"], preset
        assert got["flops"] == want["flops"], preset
        assert got["memory"] == want["memory"], preset


def test_shape_dict_and_options():
    s = scalelab.account({"vocab_size": 32000, "d_model": 512, "n_layers": 8, "n_heads": 8,
                          "context_length": 512}, batch_size=16, precision="bf16", gpu="h100-sxm")
    assert s["shape"]["d_model"] == 512
    assert s["params"]["non_embedding"] == s["params"]["total"] - s["params"]["embedding"] - s["params"]["lm_head"]
    assert s["memory"]["precision"] == "bf16"
    assert "gpt2-small" in scalelab.presets()


def test_bad_shapes_and_options_name_the_field():
    with pytest.raises(ValueError, match="n_heads"):
        scalelab.account({"d_model": 768, "n_heads": 7})
    with pytest.raises(ValueError, match="unknown preset 'gpt5'"):
        scalelab.account("gpt5")
    with pytest.raises(ValueError, match="account.batchsize: unknown field"):
        scalelab.account("gpt2-small", batchsize=4)
    with pytest.raises(ValueError, match="precision"):
        scalelab.account("gpt2-small", precision="fp8")
    with pytest.raises(ValueError, match="shape.d_model: unknown|shape.dmodel"):
        scalelab.account({"dmodel": 4})

"""Bad input from Python raises a Python exception with scalelab's message, never aborts."""

import numpy as np
import pytest

import scalelab

N = [1e8, 2e8, 4e8, 8e8, 1.6e9, 3.2e9]
D = [4e9, 2e9, 1e9, 5e8, 2.5e8, 1.25e8]
L = [3.2, 3.1, 3.05, 3.1, 3.2, 3.4]


def test_nan_in_an_array_names_the_element():
    with pytest.raises(ValueError, match=r"loss\[2\]: nan is not a finite number"):
        scalelab.fit(N, D, [3.2, 3.1, np.nan, 3.1, 3.2, 3.4])
    with pytest.raises(ValueError, match=r"D\[0\]: inf is not a finite number"):
        scalelab.fit(N, [np.inf] + D[1:], L)
    with pytest.raises(ValueError, match=r"N: nan is not a finite number"):
        scalelab.HOFFMANN_2022.predict(float("nan"), 1e9)


def test_mismatched_lengths_say_which():
    with pytest.raises(ValueError, match="N, D, loss differ in length: N has 6, D has 5, loss has 6"):
        scalelab.fit(N, D[:5], L)
    with pytest.raises(ValueError, match="N, weights differ in length"):
        scalelab.fit(N, D, L, weights=[1, 1])
    with pytest.raises(ValueError, match="budget: 2 labels for 6 runs"):
        scalelab.Runs(N=N, D=D, loss=L, budget=["a", "b"])


def test_negative_and_zero_sizes():
    with pytest.raises(ValueError, match=r"N\[1\]: must be positive, got -2e\+08"):
        scalelab.fit([1e8, -2e8] + N[2:], D, L)
    with pytest.raises(ValueError, match=r"C: must be positive, got 0"):
        scalelab.HOFFMANN_2022.allocate(0)
    with pytest.raises(ValueError, match=r"inference_tokens: must be >= 0"):
        scalelab.HOFFMANN_2022.allocate_with_inference(1e21, -1)
    with pytest.raises(ValueError, match="alpha"):
        scalelab.ScalingLaw(E=1.7, A=400, B=400, alpha=-0.3, beta=0.3)


def test_wrong_dtypes_are_type_errors():
    with pytest.raises(TypeError, match="N: expected numbers, got an array of dtype <U3"):
        scalelab.fit(np.array(["1e8", "2e8", "3e8", "4e8", "5e8", "6e8"]), D, L)
    with pytest.raises(TypeError, match=r"D\[5\]: expected a number, got str 'x'"):
        scalelab.fit(N, D[:5] + ["x"], L)
    with pytest.raises(TypeError, match="loss: expected numbers, got booleans"):
        scalelab.fit(N, D, [True] * 6)
    with pytest.raises(TypeError, match="N: expected a 1-D array of numbers, got a single number"):
        scalelab.fit(1e8, D, L)
    with pytest.raises(ValueError, match=r"N: expected a 1-D array, got shape \(2, 3\)"):
        scalelab.fit(np.array(N).reshape(2, 3), D, L)
    with pytest.raises(TypeError, match="bootstrap: expected a number of resamples"):
        scalelab.fit(N, D, L, bootstrap=1.5)
    tok = scalelab.Tokenizer.train_from_text("abc abc", 258, special_tokens=[])
    with pytest.raises(TypeError, match="text: expected str, got bytes"):
        tok.encode(b"abc")
    with pytest.raises(TypeError, match=r"texts\[1\]: expected str, got int"):
        tok.encode_batch(["a", 3])
    with pytest.raises(ValueError, match="ids: expected integer token ids, got dtype float64"):
        tok.decode(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"ids\[0\]: -1 is not a token id"):
        tok.decode([-1])
    with pytest.raises(ValueError, match="id 999 is outside the vocabulary|999"):
        tok.decode([999])


def test_missing_files_are_file_not_found():
    for call in (lambda: scalelab.Runs.from_csv("/nonexistent/runs.csv"),
                 lambda: scalelab.Runs.from_db("/nonexistent/runs.db"),
                 lambda: scalelab.Tokenizer.load("/nonexistent/tok"),
                 lambda: scalelab.Tokenizer.train(["/nonexistent/a.txt"], 300),
                 lambda: scalelab.ScalingLaw.load("/nonexistent/law.json")):
        with pytest.raises(FileNotFoundError, match="/nonexistent/"):
            call()


def test_malformed_files_are_value_errors(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("N,D,loss\n1e8,2e9\n")
    with pytest.raises(ValueError, match="bad.csv:2"):
        scalelab.Runs.from_csv(bad)
    bad.write_text("N,D,loss\n1e8,2e9,abc\n")
    with pytest.raises(ValueError, match="'abc' is not a number"):
        scalelab.Runs.from_csv(bad)
    notdb = tmp_path / "x.db"
    notdb.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ValueError, match="x.db"):
        scalelab.Runs.from_db(notdb)
    (tmp_path / "tok").mkdir()
    (tmp_path / "tok" / "tokenizer.json").write_text("{not json")
    with pytest.raises(ValueError, match="tokenizer.json"):
        scalelab.Tokenizer.load(tmp_path / "tok")
    law = tmp_path / "law.json"
    law.write_text('{"E": 1.7, "A": 400}')
    with pytest.raises(ValueError, match="B"):
        scalelab.ScalingLaw.load(law)


def test_impossible_options_name_the_field():
    with pytest.raises(ValueError, match="need at least 5 runs"):
        scalelab.fit(N[:3], D[:3], L[:3])
    with pytest.raises(ValueError, match="fit.method: expected varpro or grid, got 'lbfgs'"):
        scalelab.fit(N, D, L, method="lbfgs", bootstrap=0)
    with pytest.raises(ValueError, match="fit.alpha_mni: unknown field"):
        scalelab.fit(N, D, L, alpha_mni=0.1)
    with pytest.raises(ValueError, match="loss_fn: expected one of"):
        scalelab.fit(N, D, L, loss_fn="l2")
    with pytest.raises(ValueError, match="bootstrap: need at least 10 samples"):
        scalelab.fit(N, D, L, bootstrap=5)
    with pytest.raises(ValueError, match="param_grid.alpha: needs at least one start value"):
        scalelab.fit(N, D, L, method="grid", param_grid={"alpha": []}, bootstrap=0)
    with pytest.raises(ValueError, match=r"bootstrap.seed: 1180591620717411303424 is out of range"):
        scalelab.fit(N, D, L, seed=2 ** 70)
    with pytest.raises(ValueError, match="fit.threads: -1 is out of range"):
        scalelab.fit(N, D, L, threads=-1)
    with pytest.raises(ValueError, match=r"vocab_size: 10 is smaller than 256 bytes \+ 1 special tokens = 257"):
        scalelab.Tokenizer.train_from_text("abc", 10)
    with pytest.raises(ValueError, match="pattern: expected gpt2, cl100k, o200k or llama3"):
        scalelab.Tokenizer.train_from_text("abc", 300, pattern="bert")
    with pytest.raises(ValueError, match="noise"):
        scalelab.simulate(10, noise="poisson")

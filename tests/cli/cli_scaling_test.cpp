// End-to-end tests of the scaling commands through the real binary: runs import/list/export, fit →
// allocate/predict, isoflop, simulate, step, and the one-line errors for every bad input the issue
// lists.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "common/file_util.h"
#include "common/json.h"
#include "run_command.h"
#include "scaling/data_constrained.h"

namespace scalelab::testing {
namespace {

const std::string kPaper =
    std::string(SCALELAB_SOURCE_DIR) + "/data/chinchilla_paper_runs.csv";

TEST(CliScaling, ImportListExportRoundTrip) {
  std::string d = temp_dir("cli_runs");
  CommandResult i = run_scalelab("runs import " + kPaper + " --db " + d + "/runs.db");
  ASSERT_EQ(i.exit_code, 0) << i.err;
  EXPECT_NE(i.out.find("imported 234 runs"), std::string::npos);
  // The same file again adds nothing, and says so.
  CommandResult twice = run_scalelab("runs import " + kPaper + " --db " + d + "/runs.db");
  ASSERT_EQ(twice.exit_code, 0) << twice.err;
  EXPECT_NE(twice.out.find("imported 0 runs"), std::string::npos) << twice.out;
  EXPECT_NE(twice.err.find("234 runs are already in"), std::string::npos) << twice.err;
  CommandResult l = run_scalelab("runs list --json --db " + d + "/runs.db");
  ASSERT_EQ(l.exit_code, 0) << l.err;
  EXPECT_EQ(json::parse(l.out, "stdout").size(), 234u);
  CommandResult e = run_scalelab("runs export --db " + d + "/runs.db --out " + d + "/out.csv");
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_EQ(read_text_file(d + "/out.csv"), read_text_file(kPaper));
  CommandResult a = run_scalelab(
      "runs add --db " + d + "/runs.db --N 1e8 --D 2e9 --loss 3.3 --budget 1.2e18 --extra lr=3e-4");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_NE(a.out.find("added run 235"), std::string::npos);
}

TEST(CliScaling, FitWritesLawThatAllocateAndPredictReuse) {
  std::string d = temp_dir("cli_fit");
  CommandResult f = run_scalelab("fit --csv " + kPaper +
                                 " --bootstrap 20 --holdout largest-budget --quiet --out " + d +
                                 "/law.json --budgets 5.76e23");
  ASSERT_EQ(f.exit_code, 0) << f.err;
  EXPECT_NE(f.out.find("95% interval"), std::string::npos) << f.out;
  EXPECT_NE(f.out.find("held-out check"), std::string::npos) << f.out;
  json::Json j = json::read_file(d + "/law.json");
  double alpha = j["law"]["alpha"].get<double>();
  EXPECT_NEAR(alpha, 0.3426, 0.001);
  CommandResult a = run_scalelab("allocate --C 5.76e23 --params " + d + "/law.json --json");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  double n = json::parse(a.out, "stdout")["allocations"][0]["N_opt"].get<double>();
  EXPECT_GT(n, 5e10);  // ~65B: Chinchilla's 70B at its budget
  EXPECT_LT(n, 8e10);
  CommandResult p = run_scalelab("predict --N 7e10 --D 1.4e12 --params " + d + "/law.json --json");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_NEAR(json::parse(p.out, "stdout")["predictions"][0]["loss"].get<double>(), 1.958, 0.01);
  CommandResult h = run_scalelab("allocate --C 1e21 --hoffmann");
  EXPECT_EQ(h.exit_code, 0) << h.err;
  // Warnings are printed once, on stderr: two budgets 0.3 decades apart identify little.
  {
    std::ofstream csv(d + "/narrow.csv");
    csv << "C,N,D,loss\n";
    for (double C : {1e18, 2e18})
      for (double N : {3e7, 6e7, 1.2e8, 2.4e8, 4.8e8}) {
        const double D = C / (6 * N);
        csv << C << "," << N << "," << D << ","
            << 1.69 + 406.4 / std::pow(N, 0.34) + 410.7 / std::pow(D, 0.28) << "\n";
      }
  }
  CommandResult w = run_scalelab("fit --csv " + d + "/narrow.csv --bootstrap 0 --quiet --out ''");
  ASSERT_EQ(w.exit_code, 0) << w.err;
  EXPECT_NE(w.err.find("decades of compute"), std::string::npos) << w.err;
  EXPECT_EQ(w.out.find("decades of compute"), std::string::npos) << w.out;
}

// Runs that repeat their data (a CSV with a unique_tokens column, made from a known law): `fit`
// fits R_D*, `allocate --unique-tokens` answers for the corpus next to the fresh-data answer, and
// `predict --unique-tokens` predicts a run that repeats it.
TEST(CliScaling, DataConstrainedFitAllocateAndPredict) {
  const std::string d = temp_dir("cli_repeat");
  const scaling::DataConstrainedLaw truth{scaling::kHoffmann2022, 10.0,
                                          scaling::kMuennighoffRNStar};
  // A corpus large enough that no model here has excess parameters (U_N ≈ 1e9): R_D* alone.
  const double U = 2e10;
  {
    std::ofstream csv(d + "/repeat.csv");
    csv << "C,N,D,loss,unique_tokens\n";
    for (double N : {5e7, 1e8, 2e8, 4e8, 8e8})
      for (double epochs : {0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0})
        csv << fmt::format("{},{},{},{},{}\n", 6 * N * epochs * U, N, epochs * U,
                           truth.predict_loss(N, epochs * U, U), U);
  }
  CommandResult f =
      run_scalelab("fit --csv " + d + "/repeat.csv --bootstrap 0 --quiet --out " + d + "/law.json");
  ASSERT_EQ(f.exit_code, 0) << f.err;
  EXPECT_NE(f.out.find("repeated data (Muennighoff et al. 2023; 25 runs past one epoch)"),
            std::string::npos)
      << f.out;
  const json::Json law = json::read_file(d + "/law.json");
  ASSERT_TRUE(law.contains("data_constrained")) << law.dump();
  EXPECT_NEAR(law["data_constrained"]["law"]["R_D_star"].get<double>() / 10.0, 1.0, 0.3);
  CommandResult a =
      run_scalelab("allocate --C 1e23 --params " + d + "/law.json --unique-tokens 2e10 --json");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  const json::Json aj = json::parse(a.out, "stdout");
  const json::Json& row = aj["allocations"][0];
  EXPECT_GT(row["for_the_corpus"]["epochs"].get<double>(), 1.0);  // 1e23 wants more than 2e10
  EXPECT_GT(row["for_the_corpus"]["loss"].get<double>(), row["loss"].get<double>());
  EXPECT_NE(aj["data_constrained"]["source"].get<std::string>().find("fitted"), std::string::npos);
  // Without a fitted R_D*: the published constants, said so.
  CommandResult h = run_scalelab("allocate --C 1e22 --hoffmann --unique-tokens 2e9");
  ASSERT_EQ(h.exit_code, 0) << h.err;
  EXPECT_NE(h.out.find("published R_D*, R_N* (Muennighoff et al. 2023)"), std::string::npos)
      << h.out;
  EXPECT_NE(h.out.find("epochs"), std::string::npos) << h.out;
  // `predict --unique-tokens`: the fitted data-constrained law's loss for a run that repeats the
  // corpus 8 times, beside the fresh-data law's.
  const scaling::DataConstrainedLaw fitted = scaling::data_constrained_law_from_json(
      law["data_constrained"]["law"], "law.json: data_constrained.law");
  CommandResult p = run_scalelab("predict --params " + d +
                                 "/law.json --N 1e8 --D 1.6e11 --unique-tokens 2e10 --json");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  const json::Json pj = json::parse(p.out, "stdout")["predictions"][0];
  EXPECT_DOUBLE_EQ(pj["for_the_corpus"]["epochs"].get<double>(), 8.0);
  EXPECT_NEAR(pj["for_the_corpus"]["loss"].get<double>(), fitted.predict_loss(1e8, 1.6e11, U),
              1e-9);
  // Repeats are worth less than fresh tokens under the law's own base (which `fit` may refit with
  // R_D*, so it is not compared with the fresh-data law's column).
  EXPECT_GT(pj["for_the_corpus"]["loss"].get<double>(), fitted.base.predict_loss(1e8, 1.6e11));
  // A fit that rejected excess-parameter decay writes R_N* = null (∞): both commands take it.
  json::Json no_decay = law;
  no_decay["data_constrained"]["law"]["R_N_star"] = nullptr;
  json::write_file(d + "/no_decay.json", no_decay);
  for (const std::string cmd : {"allocate --C 1e23", "predict --N 1e8 --D 1.6e11"}) {
    CommandResult r = run_scalelab(cmd + " --params " + d + "/no_decay.json --unique-tokens 2e10");
    ASSERT_EQ(r.exit_code, 0) << cmd << ": " << r.err;
    EXPECT_NE(r.out.find("R_N* ∞ (no decay)"), std::string::npos) << r.out;
  }
  // Bad input: one line each.
  for (const std::string cmd : {"allocate --C 1e21", "predict --N 1e8 --D 1e10"})
    for (const char* bad : {"0", "-3", "nan", "inf"})
      expect_one_line_error(run_scalelab(cmd + " --hoffmann --unique-tokens " + bad),
                            "--unique-tokens: must be a positive number of tokens");
  expect_one_line_error(
      run_scalelab("predict --N 1e8 --D 1e10 --hoffmann --unique-tokens 1e9 --R-D-star nan"),
      "--R-D-star: must be a positive number, or inf for no decay");
  expect_one_line_error(
      run_scalelab("fit --csv " + kPaper + " --data-constrained --bootstrap 0 --quiet --out ''"),
      "R_D* is not identified");
}

// `allocate --inference-tokens T` (Sardana et al. 2024): next to the compute-optimal model, the one
// that reaches its loss for the least training + inference compute; a negative T is an error.
TEST(CliScaling, AllocateWithInferenceTokens) {
  CommandResult j = run_scalelab("allocate --C 1e21 --hoffmann --inference-tokens 1e12 --json");
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const json::Json row = json::Json::parse(j.out)["allocations"][0];
  const json::Json& w = row["with_inference"];
  EXPECT_EQ(w["inference_tokens"].get<double>(), 1e12);
  EXPECT_LT(w["N"].get<double>(), row["N_opt"].get<double>());
  EXPECT_NEAR(w["loss"].get<double>(), row["loss"].get<double>(), 1e-9);
  EXPECT_LT(w["total_flops"].get<double>(), w["compute_optimal_total_flops"].get<double>());
  EXPECT_NEAR(w["compute_optimal_total_flops"].get<double>(),
              1e21 + 2 * row["N_opt"].get<double>() * 1e12, 1e9);
  CommandResult t = run_scalelab("allocate --C 1e21 --hoffmann --inference-tokens 1e12");
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find("N (inference)"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("Sardana et al. 2024"), std::string::npos) << t.out;
  // Without the flag, no such columns.
  EXPECT_EQ(run_scalelab("allocate --C 1e21 --hoffmann").out.find("inference"), std::string::npos);
  expect_one_line_error(
      run_scalelab("allocate --C 1e21 --hoffmann --inference-tokens -1e9"),
      "--inference-tokens: must be a non-negative number of tokens (got -1000000000)");
}

// One spelling for a switch in every command (`train --quiet true` worked, `fit --quiet true` did
// not): alone it means true, and it takes true/false as a value or after '='.
TEST(CliScaling, SwitchesTakeAnOptionalValueInEveryCommand) {
  CommandResult j = run_scalelab("allocate --C 1e21 --hoffmann --json true");
  ASSERT_EQ(j.exit_code, 0) << j.err;
  EXPECT_EQ(j.out.front(), '{') << j.out;
  CommandResult t = run_scalelab("allocate --C 1e21 --hoffmann --json false");
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find("law (Hoffmann et al. 2022)"), std::string::npos) << t.out;
  EXPECT_EQ(run_scalelab("allocate --C 1e21 --hoffmann --json=true").out.front(), '{');
  CommandResult q = run_scalelab("fit --csv " + kPaper + " --bootstrap 0 --quiet true --out ''");
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_EQ(q.err.find("starts/s"), std::string::npos) << q.err;  // no progress bar
  expect_one_line_error(run_scalelab("fit --csv " + kPaper + " --quiet maybe --out ''"),
                        "--quiet: expected true or false, got 'maybe'");
}

TEST(CliScaling, SimulateIsoflopAndStep) {
  std::string d = temp_dir("cli_sim");
  CommandResult s =
      run_scalelab("simulate --out " + d + "/sim.csv --runs 60 --noise none --c-range 1e17,1e21");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  CommandResult f =
      run_scalelab("fit --csv " + d + "/sim.csv --bootstrap 0 --out '' --json --quiet");
  ASSERT_EQ(f.exit_code, 0) << f.err;
  EXPECT_NEAR(json::parse(f.out, "stdout")["law"]["alpha"].get<double>(), 0.33917084, 0.0017);

  // A hand-made IsoFLOP sweep: 3 budgets × 5 models on the Hoffmann law.
  std::ofstream csvf(d + "/iso.csv");
  csvf << "N,D,loss,budget\n";
  for (double C : {1e18, 1e19, 1e20}) {
    double n0 = 1.3 * std::pow(C / 6, 0.4516);
    for (int k = -2; k <= 2; ++k) {
      double N = n0 * std::pow(10.0, 0.3 * k), D = C / (6 * N);
      csvf << N << "," << D << "," << 1.69 + 406.4 / std::pow(N, 0.34) + 410.7 / std::pow(D, 0.28)
           << "," << C << "\n";
    }
  }
  csvf.close();
  CommandResult i = run_scalelab("isoflop --csv " + d + "/iso.csv --targets 1e22 --json");
  ASSERT_EQ(i.exit_code, 0) << i.err;
  json::Json ij = json::parse(i.out, "stdout");
  EXPECT_EQ(ij["budgets"].size(), 3u);
  EXPECT_NEAR(ij["N_opt"]["exponent"].get<double>(), 0.28 / 0.62, 0.02);

  CommandResult st =
      run_scalelab("step --db " + d + "/s.db --num-seeding-steps 3 --scaling-factor 10 --record");
  ASSERT_EQ(st.exit_code, 0) << st.err;
  EXPECT_NE(st.out.find("next run (seed)"), std::string::npos);
  EXPECT_NE(st.out.find("recorded as planned run 1"), std::string::npos);
}

TEST(CliScaling, BadInputIsOneLineErrorAndWritesNothing) {
  std::string d = temp_dir("cli_bad");
  std::ofstream(d + "/few.csv") << "N,D,loss\n1e8,1e9,3\n2e8,1e9,2.9\n";
  expect_one_line_error(run_scalelab("fit --csv " + d + "/few.csv --out " + d + "/law.json"),
                        "few.csv: 2 runs; fitting the scaling law needs at least 5");
  EXPECT_FALSE(std::filesystem::exists(d + "/law.json"));
  std::ofstream(d + "/nan.csv") << "N,D,loss\n1e8,1e9,3\n1e8,2e9,nan\n";
  expect_one_line_error(run_scalelab("fit --csv " + d + "/nan.csv"),
                        "nan.csv:3: loss must be a finite positive number");
  std::ofstream(d + "/neg.csv") << "C,N,D,loss\n1e18,-1e8,1e9,3\n";
  expect_one_line_error(run_scalelab("runs import " + d + "/neg.csv --db " + d + "/x.db"),
                        "neg.csv:2: N must be a finite positive number");
  std::ofstream(d + "/twice.csv") << "C,N,D,N,loss\n1e18,1e8,1e9,2e8,3\n";
  expect_one_line_error(run_scalelab("runs import " + d + "/twice.csv --db " + d + "/x.db"),
                        "twice.csv: column 'N' appears twice in the header (columns 2 and 4)");
  std::ofstream(d + "/ragged.csv") << "C,N,D,loss\n1e18,1e8,1e9\n";
  expect_one_line_error(run_scalelab("runs import " + d + "/ragged.csv --db " + d + "/x.db"),
                        "ragged.csv:2: expected 4 fields, found 3");
  expect_one_line_error(run_scalelab("fit --csv " + kPaper + " --loss l1"), "--loss");
  expect_one_line_error(run_scalelab("fit --db " + d + "/nope.db"),
                        "nope.db: no such run database");
  expect_one_line_error(
      run_scalelab("fit --csv " + kPaper +
                   " --method grid --max-iterations 1 --bootstrap 0 --quiet --out " + d +
                   "/law.json"),
      "the fit failed from every one of 4500 starts: none converged within 1 L-BFGS iterations");
  expect_one_line_error(
      run_scalelab("fit --csv " + kPaper + " --max-iterations 1 --bootstrap 0 --quiet --out " + d +
                   "/law.json"),
      "the fit failed: none of 1 refinements from the (alpha, beta) grid converged within 1 Newton "
      "iterations (raise --max-iterations)");
  EXPECT_FALSE(std::filesystem::exists(d + "/law.json"));
  expect_one_line_error(run_scalelab("fit --csv " + kPaper + " --alpha-min 1 --alpha-max 0.5"),
                        "alpha_min: the search range for alpha is empty (1 is not below "
                        "alpha_max 0.5)");
  expect_one_line_error(run_scalelab("fit --csv " + kPaper + " --beta-max 2.5"),
                        "--beta-max: must be in (0, 2) (got 2.5)");
  expect_one_line_error(run_scalelab("design --csv " + kPaper),
                        "target: give the budget (FLOPs) to design for, e.g. --target 1e21");
  std::ofstream(d + "/three.csv") << "C,N,D,loss\n6e17,1e8,1e9,3.1\n6e18,1e9,1e9,2.9\n"
                                     "6e18,1e8,1e10,2.8\n";
  expect_one_line_error(run_scalelab("design --target 1e21 --csv " + d + "/three.csv"),
                        "three.csv: 3 runs; design needs at least 5 (the law has 5 parameters)");
  expect_one_line_error(run_scalelab("allocate --C 1e21 --params " + d + "/missing.json"),
                        "missing.json: no fitted law (run `scalelab fit` first");
  expect_one_line_error(run_scalelab("allocate --C -5 --hoffmann"),
                        "--C: must be positive numbers (got -5)");
  expect_one_line_error(run_scalelab("isoflop --csv " + kPaper),
                        "has 1 runs; an IsoFLOP budget needs at least 3");
  expect_one_line_error(
      run_scalelab("fit --csv " + kPaper + " --holdout biggest"),
      "holdout: expected 'largest-budget' or a positive C threshold, got 'biggest'");

  // A database written by a newer scalelab.
  ASSERT_EQ(run_scalelab("runs add --db " + d + "/new.db --N 1e8 --D 1e9 --loss 3").exit_code, 0);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((d + "/new.db").c_str(), &db), SQLITE_OK);
  sqlite3_exec(db, "PRAGMA user_version = 9", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  expect_one_line_error(run_scalelab("runs list --db " + d + "/new.db"),
                        "run database schema version 9 is newer than this scalelab supports (2)");
}

}  // namespace
}  // namespace scalelab::testing

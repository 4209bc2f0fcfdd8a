#include "train/checkpoint.h"

#include <unistd.h>

#include "common/error.h"
#include "common/file_util.h"

namespace scalelab::train {

namespace fs = std::filesystem;

void save_checkpoint(const fs::path& dir, model::TransformerLM& model, AdamW* opt,
                     const CheckpointState& st) {
  const fs::path tmp = dir.string() + ".tmp." + std::to_string(::getpid());
  std::error_code ec;
  remove_tree(tmp);
  fs::create_directories(tmp, ec);
  SCALELAB_CHECK(!ec, "{}: cannot create checkpoint directory: {}", tmp.string(), ec.message());
  try {
    {
      torch::serialize::OutputArchive a;
      model->save(a);
      a.save_to((tmp / "model.pt").string());
    }
    if (opt != nullptr) {
      torch::serialize::OutputArchive a;
      for (size_t i = 0; i < opt->exp_avg().size(); ++i) {
        a.write("exp_avg." + std::to_string(i), opt->exp_avg()[i].cpu());
        a.write("exp_avg_sq." + std::to_string(i), opt->exp_avg_sq()[i].cpu());
      }
      a.save_to((tmp / "optimizer.pt").string());
    }
    json::Json j{{"step", st.step},
                 {"tokens", st.tokens},
                 {"wall_seconds", st.wall_seconds},
                 {"rng", st.rng},
                 {"config", st.config},
                 {"optimizer_steps", opt != nullptr ? opt->steps() : 0},
                 {"world_size", st.world_size}};
    json::write_file(tmp / "state.json", j);
  } catch (...) {
    remove_tree(tmp);
    throw;
  }
  // Swap: dir → dir.old, tmp → dir, remove dir.old. A reader sees the old or the new checkpoint.
  const fs::path old = dir.string() + ".old";
  remove_tree(old);
  if (fs::exists(dir)) fs::rename(dir, old);
  fs::rename(tmp, dir);
  remove_tree(old);
}

bool checkpoint_exists(const fs::path& dir) {
  return fs::exists(dir / "state.json") && fs::exists(dir / "model.pt");
}

CheckpointState read_checkpoint_state(const fs::path& dir) {
  SCALELAB_CHECK(fs::is_directory(dir), "{}: no such checkpoint directory", dir.string());
  SCALELAB_CHECK(fs::exists(dir / "state.json"), "{}: not a checkpoint (state.json missing)",
                 dir.string());
  return checkpoint_state_from_json(json::read_file(dir / "state.json"),
                                    (dir / "state.json").string());
}

CheckpointState load_checkpoint(const fs::path& dir, model::TransformerLM& model, AdamW* opt) {
  CheckpointState st = read_checkpoint_state(dir);
  SCALELAB_CHECK(fs::exists(dir / "model.pt"), "{}: checkpoint has no model.pt", dir.string());
  try {
    torch::serialize::InputArchive a;
    a.load_from((dir / "model.pt").string());
    model->load(a);
  } catch (const c10::Error& e) {
    SCALELAB_FAIL("{}: cannot load model.pt (truncated, or a different model shape): {}",
                  dir.string(), std::string(e.what_without_backtrace()).substr(0, 200));
  }
  if (opt != nullptr) {
    SCALELAB_CHECK(fs::exists(dir / "optimizer.pt"), "{}: checkpoint has no optimizer.pt",
                   dir.string());
    try {
      torch::serialize::InputArchive a;
      a.load_from((dir / "optimizer.pt").string());
      for (size_t i = 0; i < opt->exp_avg().size(); ++i) {
        torch::Tensor m, v;
        a.read("exp_avg." + std::to_string(i), m);
        a.read("exp_avg_sq." + std::to_string(i), v);
        torch::NoGradGuard ng;
        opt->exp_avg()[i].copy_(m);
        opt->exp_avg_sq()[i].copy_(v);
      }
    } catch (const c10::Error& e) {
      SCALELAB_FAIL("{}: cannot load optimizer.pt: {}", dir.string(),
                    std::string(e.what_without_backtrace()).substr(0, 200));
    }
    opt->set_steps(st.optimizer_steps);
  }
  return st;
}

}  // namespace scalelab::train

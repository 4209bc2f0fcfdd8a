// Process identity, liveness and spawning (see process.h).
#include "common/process.h"

#include <fcntl.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "common/error.h"

extern char** environ;

namespace scalelab {

namespace {

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "";
  return buf;
}

// State (field 3) and start time (field 22) from /proc/<pid>/stat; start_time 0 when the process
// does not exist. The command name (field 2) is parenthesised and may hold spaces, so parsing
// starts after the last ')'.
struct ProcStat {
  char state = '?';
  uint64_t start_time = 0;
};

ProcStat read_proc_stat(int64_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  if (!f) return {};
  std::string line;
  std::getline(f, line);
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream rest(line.substr(close + 1));
  ProcStat st;
  std::string field;
  // After ')': field 3 (state) is the first; field 22 is the 20th.
  for (int i = 3; i <= 22; ++i) {
    if (!(rest >> field)) return {};
    if (i == 3) st.state = field.empty() ? '?' : field[0];
  }
  st.start_time = std::stoull(field);
  return st;
}

}  // namespace

ProcessIdentity current_process() {
  const int64_t pid = getpid();
  return {host_name(), pid, read_proc_stat(pid).start_time};
}

json::Json to_json(const ProcessIdentity& p) {
  return {{"host", p.host}, {"pid", p.pid}, {"start_time", p.start_time}};
}

ProcessIdentity process_identity_from_json(const json::Json& j) {
  ProcessIdentity p;
  if (!j.is_object()) return p;
  if (j.contains("host") && j["host"].is_string()) p.host = j["host"].get<std::string>();
  if (j.contains("pid") && j["pid"].is_number_integer()) p.pid = j["pid"].get<int64_t>();
  if (j.contains("start_time") && j["start_time"].is_number_unsigned())
    p.start_time = j["start_time"].get<uint64_t>();
  return p;
}

bool process_is_dead(const ProcessIdentity& p) {
  if (p.pid <= 0) return false;
  if (p.host != host_name()) return false;
  const ProcStat now = read_proc_stat(p.pid);
  if (now.start_time == 0) return true;  // no such process
  if (now.state == 'Z') return true;     // a zombie child of ours is dead all the same
  return now.start_time != p.start_time;
}

std::string current_executable() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  SCALELAB_CHECK(!ec, "cannot find the running executable (/proc/self/exe): {}", ec.message());
  return p.string();
}

double available_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key, unit;
  double kib = 0;
  while (in >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024.0;
  return 0;
}

std::string find_in_path(const std::string& name) {
  if (name.find('/') != std::string::npos) return access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string full = (dir.empty() ? "." : dir) + "/" + name;
    if (access(full.c_str(), X_OK) == 0) return full;
  }
  return "";
}

namespace {

// Where a child's standard streams go: inherited unless named. err_to_out: stderr joins stdout.
struct ChildStreams {
  bool stdin_null = false;
  std::string out, err;
  bool err_to_out = false;
  mode_t mode = 0644;  // of the files created
};

// posix_spawn of argv (argv[0] looked up in PATH) with the current environment plus `env`.
pid_t spawn_child(const std::vector<std::string>& argv,
                  const std::map<std::string, std::string>& env, const ChildStreams& streams) {
  SCALELAB_CHECK(!argv.empty(), "spawn_process: empty command");
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string s(*e);
    const std::string key = s.substr(0, s.find('='));
    if (env.count(key) == 0) env_strings.push_back(std::move(s));
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::string exe = find_in_path(argv[0]);
  SCALELAB_CHECK(!exe.empty(), "cannot start {}: not found (or not executable)", argv[0]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  constexpr int kCreate = O_WRONLY | O_CREAT | O_TRUNC;
  if (streams.stdin_null) posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  if (!streams.out.empty())
    posix_spawn_file_actions_addopen(&actions, 1, streams.out.c_str(), kCreate, streams.mode);
  if (streams.err_to_out)
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  else if (!streams.err.empty())
    posix_spawn_file_actions_addopen(&actions, 2, streams.err.c_str(), kCreate, streams.mode);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, exe.c_str(), &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  SCALELAB_CHECK(rc == 0, "cannot start {}: {}", argv[0], std::strerror(rc));
  return pid;
}

}  // namespace

int64_t spawn_process(const std::vector<std::string>& argv,
                      const std::map<std::string, std::string>& env,
                      const std::string& output_path) {
  return spawn_child(argv, env, {.out = output_path, .err_to_out = !output_path.empty()});
}

CommandOutput run_command(const std::vector<std::string>& argv) {
  const auto tmp = std::filesystem::temp_directory_path();
  const std::string stem = fmt::format("scalelab_cmd_{}_{}", getpid(), std::rand());
  const std::string out_path = (tmp / (stem + ".out")).string(),
                    err_path = (tmp / (stem + ".err")).string();
  const pid_t pid =
      spawn_child(argv, {}, {.stdin_null = true, .out = out_path, .err = err_path, .mode = 0600});
  CommandOutput r;
  r.status = wait_process(pid);
  const auto slurp = [](const std::string& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    std::filesystem::remove(p);
    return ss.str();
  };
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  return r;
}

int wait_process(int64_t pid) {
  int status = 0;
  while (waitpid(static_cast<pid_t>(pid), &status, 0) < 0) {
    SCALELAB_CHECK(errno == EINTR, "waitpid({}): {}", pid, std::strerror(errno));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

bool keep_freed_memory_for_reuse() {
#if defined(__GLIBC__)
  for (const char* user : {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_",
                           "MALLOC_MMAP_MAX_", "GLIBC_TUNABLES"})
    if (std::getenv(user) != nullptr) return false;
  static std::once_flag once;
  static bool set = false;
  std::call_once(once, [] {
    set = mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1;
  });
  return set;
#else
  return false;
#endif
}

double gpu_share_from_env() {
  const char* v = std::getenv(kGpuShareEnv);
  if (v == nullptr || *v == '\0') return 0;
  char* end = nullptr;
  const double share = std::strtod(v, &end);
  SCALELAB_CHECK(end != v && *end == '\0' && share > 0 && share <= 1,
                 "{}: must be a fraction in (0, 1] (got '{}')", kGpuShareEnv, v);
  return share;
}

}  // namespace scalelab

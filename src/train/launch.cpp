// Local rank launcher (see launch.h).
#include "train/launch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <map>
#include <thread>

#include "common/error.h"
#include "common/log.h"
#include "common/process.h"

namespace scalelab::train {

namespace {

std::atomic<int> g_launcher_signal{0};
extern "C" void on_launcher_signal(int sig) { g_launcher_signal.store(sig); }

std::string describe_status(int status) {
  if (WIFEXITED(status)) return fmt::format("exit status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return fmt::format("killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  return "stopped";
}

}  // namespace

int free_tcp_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  SCALELAB_CHECK(fd >= 0, "nproc_per_node: cannot open a socket: {}", std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof(a);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  const int err = errno;
  close(fd);
  SCALELAB_CHECK(ok, "nproc_per_node: cannot find a free TCP port: {}", std::strerror(err));
  return ntohs(a.sin_port);
}

void launch_local_ranks(const std::vector<std::string>& argv, const LaunchOptions& o) {
  SCALELAB_CHECK(o.nproc >= 1, "nproc_per_node: must be positive (got {})", o.nproc);
  const std::string port = std::to_string(free_tcp_port());
  g_launcher_signal.store(0);
  auto old_int = std::signal(SIGINT, on_launcher_signal);
  auto old_term = std::signal(SIGTERM, on_launcher_signal);
  std::map<pid_t, int64_t> ranks;  // live pid → rank
  const auto signal_all = [&](int sig) {
    for (const auto& [pid, rank] : ranks) kill(pid, sig);
  };
  std::string failure;
  try {
    for (int64_t r = 0; r < o.nproc; ++r) {
      std::map<std::string, std::string> env = o.env;
      env["RANK"] = env["LOCAL_RANK"] = std::to_string(r);
      env["WORLD_SIZE"] = env["LOCAL_WORLD_SIZE"] = std::to_string(o.nproc);
      env["MASTER_ADDR"] = "127.0.0.1";
      env["MASTER_PORT"] = port;
      ranks[static_cast<pid_t>(spawn_process(argv, env))] = r;
    }
  } catch (...) {
    signal_all(SIGKILL);
    for (const auto& [pid, rank] : ranks) wait_process(pid);
    std::signal(SIGINT, old_int);
    std::signal(SIGTERM, old_term);
    throw;
  }
  SCALELAB_LOG_DEBUG("started {} ranks (MASTER_PORT {})", o.nproc, port);
  int forwarded = 0;
  std::chrono::steady_clock::time_point kill_at{};
  bool killed = false;
  while (!ranks.empty()) {
    if (const int sig = g_launcher_signal.load(); sig != 0 && sig != forwarded) {
      signal_all(sig);  // Ctrl-C reaches the ranks through the terminal too: once is enough
      forwarded = sig;
    }
    if (!failure.empty() && !killed && std::chrono::steady_clock::now() >= kill_at) {
      signal_all(SIGKILL);
      killed = true;
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid == 0 || (pid < 0 && errno == EINTR)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    SCALELAB_CHECK(pid > 0, "nproc_per_node: waitpid: {}", std::strerror(errno));
    const auto it = ranks.find(pid);
    if (it == ranks.end()) continue;
    const int64_t rank = it->second;
    ranks.erase(it);
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok && failure.empty()) {
      failure = fmt::format("rank {} of {} failed ({})", rank, o.nproc, describe_status(status));
      signal_all(SIGTERM);
      kill_at = std::chrono::steady_clock::now() +
                std::chrono::milliseconds(static_cast<int64_t>(o.grace_seconds * 1000));
    }
  }
  std::signal(SIGINT, old_int);
  std::signal(SIGTERM, old_term);
  SCALELAB_CHECK(failure.empty(), "nproc_per_node: {}; the other ranks were stopped", failure);
}

}  // namespace scalelab::train

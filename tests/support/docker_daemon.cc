#include "tests/support/docker_daemon.h"

#include <dirent.h>
#include <fcntl.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "common/strings.h"
#include "tests/support/wait.h"

namespace reattest::testing {
namespace {

// Debian's paths: /usr/local/bin/docker may be a different client.
constexpr char kDockerd[] = "/usr/sbin/dockerd";
constexpr char kDockerCli[] = "/usr/bin/docker";
constexpr char kBusybox[] = "/bin/busybox";
constexpr char kTar[] = "/usr/bin/tar";

constexpr auto kReadyTimeout = std::chrono::seconds(30);
constexpr auto kExitTimeout = std::chrono::seconds(30);
constexpr auto kCommandTimeout = std::chrono::seconds(60);
// overlay2 first; vfs works on any filesystem (overlay on overlay does not).
constexpr const char* kStorageDrivers[] = {"overlay2", "vfs"};

absl::Status ErrnoError(std::string_view what) { return absl::ErrnoToStatus(errno, Concat(what)); }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// The last lines of a log, for error messages.
std::string Tail(const std::string& text, size_t bytes = 2000) {
  return text.size() <= bytes ? text : text.substr(text.size() - bytes);
}

// Forks and execs `argv` (argv[0] an absolute path) with standard output and
// error on the given descriptors. The child dies with the test binary.
pid_t Spawn(const std::vector<std::string>& argv, int out_fd, int err_fd) {
  std::vector<char*> args;
  for (const std::string& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);

  pid_t pid = fork();
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    dup2(out_fd, STDOUT_FILENO);
    dup2(err_fd, STDERR_FILENO);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

// Waits for `pid` to exit; its wait status, or nullopt after `timeout`.
std::optional<int> WaitExit(pid_t pid, std::chrono::milliseconds timeout) {
  int status = 0;
  bool exited = WaitFor([&] { return waitpid(pid, &status, WNOHANG) == pid; }, timeout);
  return exited ? std::optional<int>(status) : std::nullopt;
}

// Drains `fd` until end-of-file or the deadline; false on the deadline.
bool ReadAll(int fd, std::chrono::steady_clock::time_point deadline, std::string& out) {
  char buffer[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd ready{fd, POLLIN, 0};
    if (poll(&ready, 1, 100) <= 0) {
      continue;
    }
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n == 0) {
      return true;
    }
    if (n > 0) {
      out.append(buffer, static_cast<size_t>(n));
    }
  }
  return false;
}

// Runs a command to completion: its standard output, or an error that quotes
// its standard error (written to `err_path`).
absl::StatusOr<std::string> RunCommand(const std::vector<std::string>& argv,
                                       const std::string& err_path) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) {
    return ErrnoError("pipe2");
  }
  int err_fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  pid_t pid = Spawn(argv, out[1], err_fd);
  close(out[1]);
  close(err_fd);

  std::string output;
  bool finished = ReadAll(out[0], std::chrono::steady_clock::now() + kCommandTimeout, output);
  close(out[0]);
  if (!finished) {
    kill(pid, SIGKILL);
  }
  int status = 0;
  waitpid(pid, &status, 0);

  std::string command = Join(argv, " ");
  if (!finished) {
    return absl::DeadlineExceededError(Concat(command, ": timed out"));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(Concat(command, ": failed: ", Tail(ReadFile(err_path))));
  }
  return std::string(Trim(output));
}

absl::Status CheckInstalled() {
  for (const char* program : {kDockerd, kDockerCli, kBusybox, kTar}) {
    if (access(program, X_OK) != 0) {
      return absl::FailedPreconditionError(
          Concat(program,
                 " is missing: install docker.io and busybox-static "
                 "(scripts/install-deps.sh)"));
    }
  }
  return absl::OkStatus();
}

bool Ping(const std::string& socket_path) {
  httplib::Client client(socket_path);
  client.set_address_family(AF_UNIX);
  client.set_connection_timeout(std::chrono::seconds(1));
  client.set_read_timeout(std::chrono::seconds(1));
  httplib::Result result = client.Get("/_ping", httplib::Headers{{"Host", "docker"}});
  return result && result->status == 200;
}

// Mount points under `root` from /proc/self/mountinfo (field 5), in mount order.
std::vector<std::string> MountsUnder(const std::string& root) {
  std::vector<std::string> mounts;
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mountinfo, line)) {
    std::vector<std::string_view> fields = Split(line, " ");
    if (fields.size() > 4 && (fields[4] == root || fields[4].starts_with(root + "/"))) {
      mounts.emplace_back(fields[4]);
    }
  }
  return mounts;
}

// True when `pid` has exited, reaped or not: /proc/PID/stat is gone or its
// state (the field after the last `)`) is Z.
bool IsGoneOrZombie(pid_t pid) {
  std::string stat = ReadFile(Concat("/proc/", pid, "/stat"));
  size_t paren = stat.rfind(')');
  return paren == std::string::npos || stat.compare(paren, 3, ") Z") == 0;
}

}  // namespace

DockerDaemon::DockerDaemon(std::string root, std::string storage_driver)
    : root_(std::move(root)),
      storage_driver_(std::move(storage_driver)),
      socket_path_(root_ + "/d.sock") {}

absl::StatusOr<std::unique_ptr<DockerDaemon>> DockerDaemon::Start() {
  absl::Status installed = CheckInstalled();
  if (!installed.ok()) {
    return installed;
  }
  std::string failures;
  for (const char* driver : kStorageDrivers) {
    char pattern[] = "/tmp/rd-XXXXXX";
    if (mkdtemp(pattern) == nullptr) {
      return ErrnoError("mkdtemp");
    }
    // On failure the object's destructor cleans up what was started.
    std::unique_ptr<DockerDaemon> daemon(new DockerDaemon(pattern, driver));
    absl::Status started = daemon->Launch();
    if (started.ok()) {
      started = daemon->WaitReady();
    }
    if (started.ok()) {
      return daemon;
    }
    failures += Concat("\n", driver, ": ", started.message());
  }
  return absl::UnavailableError(Concat("dockerd did not start:", failures));
}

DockerDaemon::~DockerDaemon() {
  RemoveContainers();
  if (pid_ > 0) {
    (void)Signal(SIGTERM);
  }
  KillLeftovers();
  UnmountAll();
  std::error_code ignored;
  std::filesystem::remove_all(root_, ignored);
}

absl::Status DockerDaemon::Launch() {
  std::error_code error;
  std::filesystem::create_directories(Path("data"), error);
  std::filesystem::create_directories(Path("exec"), error);
  // Our own (empty) config file: the host's /etc/docker/daemon.json may
  // conflict with the flags below.
  std::ofstream(Path("daemon.json")) << "{}\n";

  std::vector<std::string> argv = {
      kDockerd,
      "--config-file",
      Path("daemon.json"),
      "--data-root",
      Path("data"),
      "--exec-root",
      Path("exec"),
      "--host",
      Concat("unix://", socket_path_),
      "--pidfile",
      Path("dockerd.pid"),
      "--iptables=false",
      "--ip6tables=false",
      "--bridge=none",
      "--storage-driver",
      storage_driver_,
      "--exec-opt",
      "native.cgroupdriver=cgroupfs",
      "--live-restore",
  };
  int log = open(Path("dockerd.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log < 0) {
    return ErrnoError(Concat("open ", Path("dockerd.log")));
  }
  pid_ = Spawn(argv, log, log);
  close(log);
  if (pid_ < 0) {
    return ErrnoError("fork");
  }
  return absl::OkStatus();
}

absl::Status DockerDaemon::WaitReady() {
  bool exited = false;
  auto ready = [&] {
    exited = waitpid(pid_, nullptr, WNOHANG) == pid_;
    return exited || Ping(socket_path_);
  };
  if (WaitFor(ready, kReadyTimeout) && !exited) {
    return absl::OkStatus();
  }
  if (exited) {
    pid_ = -1;
  }
  return absl::UnavailableError(Concat(exited ? "dockerd exited" : "dockerd did not answer /_ping",
                                       "; its log ends:\n", Tail(ReadFile(Path("dockerd.log")))));
}

absl::Status DockerDaemon::Signal(int signal) {
  if (pid_ <= 0) {
    return absl::FailedPreconditionError("dockerd is not running");
  }
  kill(pid_, signal);
  std::optional<int> status = WaitExit(pid_, kExitTimeout);
  if (!status.has_value()) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  pid_ = -1;
  return status.has_value() ? absl::OkStatus()
                            : absl::DeadlineExceededError("dockerd ignored the signal; killed");
}

// dockerd's own containerd dies with it (its parent-death signal), but its
// pid file stays. A restarted dockerd trusts a pid file whose process still
// exists, and an unreaped zombie does: it would then wait on a dead socket
// ("timeout waiting for containerd to start"). So wait for containerd to die
// and drop the stale file, as an init system's cleanup would.
void DockerDaemon::ForgetDeadContainerd() {
  std::string pid_file = Path("exec/containerd/containerd.pid");
  pid_t pid = 0;
  if (!ParseInteger(Trim(ReadFile(pid_file)), pid) || pid <= 0) {
    return;
  }
  WaitFor([&] { return IsGoneOrZombie(pid); }, kExitTimeout);
  std::error_code ignored;
  std::filesystem::remove(pid_file, ignored);
}

absl::Status DockerDaemon::Kill() {
  absl::Status killed = Signal(SIGKILL);
  ForgetDeadContainerd();
  return killed;
}

absl::Status DockerDaemon::Stop() { return Signal(SIGTERM); }

absl::Status DockerDaemon::Restart() {
  if (pid_ > 0) {
    return absl::FailedPreconditionError("dockerd is still running");
  }
  absl::Status launched = Launch();
  return launched.ok() ? WaitReady() : launched;
}

absl::StatusOr<std::string> DockerDaemon::Cli(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {kDockerCli, "-H", Concat("unix://", socket_path_)};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, Path("cli.err"));
}

absl::Status DockerDaemon::ImportBusybox(const std::string& name) {
  std::string bin = Path("rootfs/bin");
  std::error_code error;
  std::filesystem::create_directories(bin, error);
  std::filesystem::copy_file(kBusybox, bin + "/busybox",
                             std::filesystem::copy_options::overwrite_existing, error);
  if (error) {
    return absl::InternalError(Concat("copy ", kBusybox, ": ", error.message()));
  }
  for (const char* applet : {"sh", "sleep"}) {
    std::filesystem::remove(bin + "/" + applet, error);
    std::filesystem::create_symlink("busybox", bin + "/" + applet, error);
  }

  absl::StatusOr<std::string> tarred =
      RunCommand({kTar, "-C", Path("rootfs"), "-cf", Path("rootfs.tar"), "."}, Path("tar.err"));
  if (!tarred.ok()) {
    return tarred.status();
  }
  absl::StatusOr<std::string> imported = Cli({"import", Path("rootfs.tar"), name});
  return imported.ok() ? absl::OkStatus() : imported.status();
}

absl::StatusOr<DockerDaemon::Container> DockerDaemon::Run(const std::vector<std::string>& args) {
  std::vector<std::string> run = {"run", "-d"};
  run.insert(run.end(), args.begin(), args.end());
  absl::StatusOr<std::string> id = Cli(run);
  if (!id.ok()) {
    return id.status();
  }
  absl::StatusOr<std::string> pid = Cli({"inspect", "-f", "{{.State.Pid}}", *id});
  if (!pid.ok()) {
    return pid.status();
  }

  Container container{*id, 0};
  if (!ParseInteger(*pid, container.pid) || container.pid <= 0) {
    return absl::InternalError(Concat("docker inspect gave PID '", *pid, "'"));
  }
  containers_.push_back(container);
  return container;
}

// Containers survive a stopped daemon (live-restore), so they are removed
// through the daemon, which is started again for that if it is down.
void DockerDaemon::RemoveContainers() {
  if (containers_.empty()) {
    return;
  }
  if (pid_ <= 0 && !Restart().ok()) {
    return;
  }
  std::vector<std::string> remove = {"rm", "-f"};
  for (const Container& container : containers_) {
    remove.push_back(container.id);
  }
  if (Cli(remove).ok()) {
    containers_.clear();
  }
}

// When the daemon could not remove its containers, their processes, the
// containerd it started and the shims still run: kill what we can find. Only
// our processes mention this daemon's unique root on their command line.
void DockerDaemon::KillLeftovers() {
  for (const Container& container : containers_) {
    kill(container.pid, SIGKILL);
  }
  DIR* proc = opendir("/proc");
  if (proc == nullptr) {
    return;
  }
  while (dirent* entry = readdir(proc)) {
    pid_t pid = 0;
    if (!ParseInteger(std::string_view(entry->d_name), pid) || pid == getpid()) {
      continue;
    }
    std::string cmdline = ReadFile(Concat("/proc/", pid, "/cmdline"));
    if (cmdline.find(root_ + "/") != std::string::npos) {
      kill(pid, SIGKILL);
    }
  }
  closedir(proc);
}

// dockerd bind-mounts its data root onto itself (and overlay2 mounts layers
// below it) and leaves the mounts behind when it exits; deleting through a
// live mount would be wrong, so detach them first, innermost last-mounted first.
void DockerDaemon::UnmountAll() {
  std::vector<std::string> mounts = MountsUnder(root_);
  for (auto mount = mounts.rbegin(); mount != mounts.rend(); ++mount) {
    umount2(mount->c_str(), MNT_DETACH);
  }
}

}  // namespace reattest::testing

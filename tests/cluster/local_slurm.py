"""A throw-away one-node SLURM cluster on localhost, for tests/cluster.

:class:`LocalSlurm` writes a minimal ``slurm.conf`` and a fresh munge key into a temporary
directory, starts ``munged``, ``slurmctld`` and ``slurmd`` (daemonised, pid files in that
directory), waits for the node to be idle and, on :meth:`LocalSlurm.stop`, cancels what is
left and stops exactly the daemons it started, by their process IDs.

No cgroups (``proctrack/linuxproc``, ``task/none``), no accounting database
(``accounting_storage/none``), so ``sacct`` cannot answer: job states come from ``squeue``,
which keeps finished jobs for ``MinJobAge`` seconds. The node is declared with the CPUs and
memory ``slurmd -C`` reports for this machine.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
INSTALL_SCRIPT = HERE / "install_slurm.sh"
DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "scontrol", "sinfo", "scancel", "srun")


def missing_tools() -> list[str]:
    return [tool for tool in (*DAEMONS, *CLIENTS) if shutil.which(tool) is None]


def ensure_installed() -> None:
    """Install slurm-wlm and munge from Debian when missing (as root; see install_slurm.sh)."""
    if missing_tools():
        subprocess.run(["bash", str(INSTALL_SCRIPT)], check=True)
    still_missing = missing_tools()
    if still_missing:
        raise RuntimeError(f"SLURM tools still missing after {INSTALL_SCRIPT}: {', '.join(still_missing)}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def node_line() -> dict[str, str]:
    """``slurmd -C``: this machine's NodeName, CPUs, sockets, cores, threads, RealMemory."""
    output = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, check=True).stdout
    first = next(line for line in output.splitlines() if line.startswith("NodeName="))
    return dict(item.split("=", 1) for item in first.split())


class LocalSlurm:
    """Start with :meth:`start`, stop with :meth:`stop` (also on failure: use try/finally)."""

    def __init__(self) -> None:
        # Short path: the munge socket path must fit a unix socket name (108 bytes).
        self.root = Path(tempfile.mkdtemp(prefix="fsk-slurm-"))
        self.conf = self.root / "slurm.conf"
        self.socket = self.root / "munge" / "munge.socket"
        self.pids: dict[str, int] = {}
        self.node: dict[str, str] = {}

    @property
    def env(self) -> dict[str, str]:
        """The environment for client commands and snakemake: points them at this cluster.

        ``SLURM_CONF`` names this cluster's config. The plugin's job step removes every
        ``SLURM_*`` variable before its nested ``srun`` (a real cluster has its config at
        the default path), so ``PATH`` starts with a directory whose ``srun`` sets it again.
        """
        return dict(os.environ, SLURM_CONF=str(self.conf), PATH=f"{self.root / 'bin'}{os.pathsep}{os.environ['PATH']}")

    def _write_srun_shim(self) -> None:
        shim = self.root / "bin" / "srun"
        shim.parent.mkdir()
        shim.write_text(f'#!/bin/sh\nSLURM_CONF={self.conf} exec {shutil.which("srun")} "$@"\n')
        shim.chmod(0o755)

    # ------------------------------------------------------------------ start
    def start(self, timeout: float = 90.0) -> "LocalSlurm":
        ensure_installed()
        self._start_munge()
        self._write_conf()
        self._write_srun_shim()
        for daemon in ("slurmctld", "slurmd"):
            state = self.root / daemon
            state.mkdir(mode=0o755, exist_ok=True)
        self._run_daemon("slurmctld", ["slurmctld", "-f", str(self.conf), "-c", "-i"], self.root / "slurmctld.pid")
        self._run_daemon("slurmd", ["slurmd", "-f", str(self.conf)], self.root / "slurmd.pid")
        self._wait_idle(timeout)
        return self

    def _start_munge(self) -> None:
        munge_dir = self.socket.parent
        munge_dir.mkdir(mode=0o700)
        key = munge_dir / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        command = [
            "munged",
            f"--key-file={key}",
            f"--socket={self.socket}",
            f"--pid-file={munge_dir / 'munged.pid'}",
            f"--log-file={munge_dir / 'munged.log'}",
            f"--seed-file={munge_dir / 'munged.seed'}",
            "--force",  # runs as root in a test container
        ]
        self._run_daemon("munged", command, munge_dir / "munged.pid")

    def _write_conf(self) -> None:
        self.node = node_line()
        host = self.node["NodeName"]
        node = " ".join(
            f"{key}={self.node[key]}"
            for key in ("CPUs", "Boards", "SocketsPerBoard", "CoresPerSocket", "ThreadsPerCore", "RealMemory")
            if key in self.node
        )
        root = self.root
        self.conf.write_text(
            "\n".join(
                [
                    "# Written by tests/cluster/local_slurm.py: one node, no cgroups, no accounting.",
                    "ClusterName=fibroskin-test",
                    f"SlurmctldHost={host}(127.0.0.1)",
                    f"SlurmctldPort={free_port()}",
                    f"SlurmdPort={free_port()}",
                    "SlurmUser=root",
                    "SlurmdUser=root",
                    "AuthType=auth/munge",
                    "CredType=cred/munge",
                    f"AuthInfo=socket={self.socket}",
                    f"StateSaveLocation={root / 'slurmctld'}",
                    f"SlurmdSpoolDir={root / 'slurmd'}",
                    f"SlurmctldPidFile={root / 'slurmctld.pid'}",
                    f"SlurmdPidFile={root / 'slurmd.pid'}",
                    f"SlurmctldLogFile={root / 'slurmctld.log'}",
                    f"SlurmdLogFile={root / 'slurmd.log'}",
                    "ProctrackType=proctrack/linuxproc",
                    "TaskPlugin=task/none",
                    "JobAcctGatherType=jobacct_gather/none",
                    "AccountingStorageType=accounting_storage/none",
                    "JobCompType=jobcomp/none",
                    "SelectType=select/cons_tres",
                    "SelectTypeParameters=CR_Core_Memory",
                    "SchedulerType=sched/backfill",
                    "MpiDefault=none",
                    "ReturnToService=2",
                    # Finished jobs stay visible to squeue (the status command without sacct).
                    "MinJobAge=3600",
                    "SlurmdTimeout=60",
                    "InactiveLimit=0",
                    "KillWait=5",
                    f"NodeName={host} NodeAddr=127.0.0.1 {node} State=UNKNOWN",
                    "PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
                    "",
                ]
            )
        )

    def _run_daemon(self, name: str, command: list[str], pid_file: Path, timeout: float = 30.0) -> None:
        """Start a daemon that forks into the background and record its pid from its pid file."""
        result = subprocess.run(command, env=self.env, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{name} failed to start ({result.returncode}):\n{result.stdout}\n{result.stderr}\n{self.logs()}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pid_file.exists() and pid_file.read_text().strip():
                pid = int(pid_file.read_text().split()[0])
                if _alive(pid):
                    self.pids[name] = pid
                    return
            time.sleep(0.2)
        raise RuntimeError(f"{name} wrote no pid file {pid_file}\n{self.logs()}")

    def _wait_idle(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            result = subprocess.run(["sinfo", "-h", "-N", "-o", "%T"], env=self.env, capture_output=True, text=True)
            state = result.stdout.strip()
            if result.returncode == 0 and state == "idle":
                return
            time.sleep(1)
        raise RuntimeError(f"SLURM node not idle after {timeout:.0f} s (state {state!r})\n{self.logs()}")

    # ------------------------------------------------------------------ query
    def jobs(self) -> list[dict[str, str]]:
        """Every job slurmctld still knows (all states), from ``scontrol show job -o``."""
        result = subprocess.run(
            ["scontrol", "show", "job", "-o"], env=self.env, capture_output=True, text=True, check=True
        )
        jobs = []
        for line in result.stdout.splitlines():
            if not line.startswith("JobId="):
                continue
            fields: dict[str, str] = {}
            for item in line.split(" "):
                if "=" in item:
                    key, value = item.split("=", 1)
                    fields.setdefault(key, value)
            jobs.append(fields)
        return jobs

    def logs(self) -> str:
        parts = []
        for path in (self.root / "slurmctld.log", self.root / "slurmd.log", self.socket.parent / "munged.log"):
            if path.exists():
                parts.append(f"--- {path.name} (last lines)\n" + "\n".join(path.read_text(errors="replace").splitlines()[-25:]))
        return "\n".join(parts)

    # ------------------------------------------------------------------ stop
    def stop(self) -> None:
        """Cancel leftover jobs, then stop the daemons this object started, by pid."""
        if "slurmctld" in self.pids and _alive(self.pids["slurmctld"]):
            subprocess.run(["scancel", "--user", "root"], env=self.env, capture_output=True)
        for name in ("slurmd", "slurmctld", "munged"):
            pid = self.pids.pop(name, None)
            if pid is not None:
                _terminate(pid)
        shutil.rmtree(self.root, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is dead for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ", 1)[1][:1] != "Z"
    except OSError:
        return False


def _terminate(pid: int, grace: float = 15.0) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.2)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass

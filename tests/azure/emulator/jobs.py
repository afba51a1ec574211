"""Runs a submitted command job the way Azure ML does, on this machine: one working folder per
node holding the unpacked code snapshot, the command started once per process (PyTorch:
processCountPerInstance per node, with MASTER_ADDR, MASTER_PORT, WORLD_SIZE, NODE_RANK, RANK and
LOCAL_RANK; Mpi: OpenMPI's OMPI_COMM_WORLD_* and AZ_BATCHAI_MPI_MASTER_NODE), model inputs
mounted read-only, one log a process (user_logs/std_log_process_<rank>.txt), the first failing
process ends the job, outputs/ of the nodes becomes the run's artifacts, and Upload outputs are
kept for model registration."""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

TERMINAL = ("Completed", "Failed", "Canceled")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def iso_seconds(duration):
    """Seconds of an ISO 8601 duration such as PT86400S or P1DT2H."""
    m = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?", duration or "")
    if not m:
        return None
    d, h, mi, s = m.groups()
    return int(d or 0) * 86400 + int(h or 0) * 3600 + int(mi or 0) * 60 + float(s or 0)


class Job:
    def __init__(self, name, properties, folder, code_dir, extra_env, mlflow, faults, log, inputs=None):
        self.name = name
        self.properties = properties
        self.folder = folder
        self.code_dir = code_dir
        self.extra_env = extra_env  # what the emulated image sets (PATH, build cache ...)
        self.mlflow = mlflow        # (tracking URI, token)
        self.faults = faults
        self.log = log
        self.status = "NotStarted"
        self.error = None
        self.processes = []  # (rank, Popen)
        self.cancel_requested = False
        self.lock = threading.Lock()
        self.outputs = {}
        self.input_sources = inputs or {}  # model inputs: name -> the folder of the model version
        self.inputs = {}  # name -> where it is mounted (read-only) for the job
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()

    def cancel(self):
        with self.lock:
            if self.status in TERMINAL:
                return
            self.cancel_requested = True
            self.status = "CancelRequested"
        self._stop_all()

    # -- files the data plane serves
    def log_files(self):
        folder = os.path.join(self.folder, "user_logs")
        if not os.path.isdir(folder):
            return []
        return sorted("user_logs/" + f for f in os.listdir(folder))

    def artifact_files(self, prefix):
        root = os.path.join(self.folder, "artifacts")
        found = []
        for dirpath, _, files in os.walk(os.path.join(root, prefix)):
            for f in files:
                found.append(os.path.relpath(os.path.join(dirpath, f), root).replace(os.sep, "/"))
        return sorted(found)

    # -- the run
    def _set(self, status):
        with self.lock:
            if self.cancel_requested and status not in TERMINAL:
                return False
            self.status = status
            self.log("job %s: %s" % (self.name, status))
            return True

    def _run(self):
        try:
            self._execute()
        except Exception as e:  # an emulator fault is the job's failure, not a hang
            self.error = "emulator: %s" % e
            self._set("Failed")

    def _execute(self):
        p = self.properties
        nodes = p["resources"]["instanceCount"] if "resources" in p else 1
        distribution = p.get("distribution") or {"distributionType": "PyTorch", "processCountPerInstance": 1}
        per_node = distribution.get("processCountPerInstance", 1)
        kind = distribution["distributionType"]
        world = nodes * per_node
        time.sleep(0.2)
        if not self._set("Queued"):
            return self._finish_canceled()
        time.sleep(0.2)
        if not self._set("Preparing"):
            return self._finish_canceled()
        os.makedirs(os.path.join(self.folder, "user_logs"), exist_ok=True)
        for name, output in (p.get("outputs") or {}).items():
            self.outputs[name] = os.path.join(self.folder, "outputs", name)
            os.makedirs(self.outputs[name], exist_ok=True)
        for name, source in self.input_sources.items():  # ReadOnlyMount: a read-only copy
            mount = os.path.join(self.folder, "inputs", name)
            shutil.copytree(source, mount)
            for dirpath, _, files in os.walk(mount):
                for f in files:
                    os.chmod(os.path.join(dirpath, f), 0o444)
            self.inputs[name] = mount
        work = []
        for node in range(nodes):
            wd = os.path.join(self.folder, "node_%d" % node, "wd")
            shutil.copytree(self.code_dir, wd)  # each node downloads the code snapshot
            corrupt = self.faults.get("corrupt")  # {"node": N, "path": file or folder}: a damaged copy
            if corrupt and corrupt.get("node") == node:
                target = os.path.join(wd, corrupt["path"])
                files = [target] if os.path.isfile(target) else [
                    os.path.join(d, f) for d, _, fs in os.walk(target) for f in fs]
                for file in files:
                    with open(file, "wb") as f:
                        f.write(b"damaged on node %d" % node)
            work.append(wd)
        command = self._substitute(p["command"])
        port = free_port()
        base_env = dict(os.environ)
        base_env.update(self.extra_env)
        base_env.update(p.get("environmentVariables") or {})
        base_env.update({"AZUREML_RUN_ID": self.name, "AZUREML_EXPERIMENT_NAME": p.get("experimentName", "Default"),
                         "MLFLOW_TRACKING_URI": self.mlflow[0], "MLFLOW_TRACKING_TOKEN": self.mlflow[1],
                         "MLFLOW_RUN_ID": self.name, "MLFLOW_EXPERIMENT_NAME": p.get("experimentName", "Default")})
        if not self._set("Running"):
            return self._finish_canceled()
        for node in range(nodes):
            for local in range(per_node):
                rank = node * per_node + local
                env = dict(base_env)
                if kind == "PyTorch":
                    env.update({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "WORLD_SIZE": str(world),
                                "NODE_RANK": str(node), "RANK": str(rank), "LOCAL_RANK": str(local)})
                elif kind == "Mpi":
                    env.update({"OMPI_COMM_WORLD_RANK": str(rank), "OMPI_COMM_WORLD_SIZE": str(world),
                                "OMPI_COMM_WORLD_LOCAL_RANK": str(local), "OMPI_COMM_WORLD_LOCAL_SIZE": str(per_node),
                                "OMPI_COMM_WORLD_NODE_RANK": str(node), "AZ_BATCHAI_MPI_MASTER_NODE": "127.0.0.1"})
                else:
                    raise RuntimeError("distribution %s is not emulated" % kind)
                name = "std_log_process_%d.txt" % rank if world > 1 else "std_log.txt"
                log = open(os.path.join(self.folder, "user_logs", name), "wb")
                proc = subprocess.Popen(["bash", "-c", command], cwd=work[node], env=env, stdout=log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
                log.close()
                self.processes.append((rank, name, proc))
        self._wait(iso_seconds((p.get("limits") or {}).get("timeout")))
        if self.cancel_requested:
            return self._finish_canceled()
        if self.error:
            return self._set("Failed")
        self._set("Finalizing")
        artifacts = os.path.join(self.folder, "artifacts", "outputs")
        for wd in reversed(work):  # node 0 last: its files win
            if os.path.isdir(os.path.join(wd, "outputs")):
                shutil.copytree(os.path.join(wd, "outputs"), artifacts, dirs_exist_ok=True)
        self._set("Completed")

    def _substitute(self, command):
        def value(m):
            kind, name = m.group(1), m.group(2)
            if kind == "outputs" and name in self.outputs:
                return self.outputs[name]
            inputs = self.properties.get("inputs") or {}
            if kind == "inputs" and name in self.inputs:
                return self.inputs[name]
            if kind == "inputs" and name in inputs and inputs[name].get("jobInputType") == "literal":
                return inputs[name]["value"]
            raise RuntimeError("the command refers to ${{%s.%s}}, which the job does not define" % (kind, name))
        return re.sub(r"\$\{\{(inputs|outputs)\.([A-Za-z0-9_]+)\}\}", value, command)

    def _wait(self, timeout):
        """Until every process ends, one fails (the others are stopped, as Azure stops the job),
        the job is canceled, or limits.timeout passes."""
        exits = []
        done = threading.Condition()

        def waiter(rank, name, proc):
            code = proc.wait()
            with done:
                exits.append((time.monotonic(), rank, name, code))
                done.notify_all()

        for rank, name, proc in self.processes:
            threading.Thread(target=waiter, args=(rank, name, proc), daemon=True).start()
        deadline = time.monotonic() + timeout if timeout else None
        with done:
            while len(exits) < len(self.processes):
                failed = [e for e in exits if e[3] != 0]
                if failed or self.cancel_requested:
                    break
                if deadline and time.monotonic() > deadline:
                    self.error = "Job exceeded its limits.timeout and was canceled"
                    break
                done.wait(0.05)
            failed = sorted(e for e in exits if e[3] != 0)
        if failed and not self.cancel_requested:
            _, rank, name, code = failed[0]
            self.error = ("Execution failed. User process 'bash' exited with status code %d. Please check log file "
                          "'user_logs/%s' for error details." % (code, name))
        if failed or self.cancel_requested or self.error:
            self._stop_all()
        for _, _, proc in self.processes:
            proc.wait()

    def _stop_all(self):
        for _, _, proc in self.processes:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 5
        for _, _, proc in self.processes:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def _finish_canceled(self):
        self._stop_all()
        with self.lock:
            self.status = "Canceled"
        self.log("job %s: Canceled" % self.name)

"""An Azure ML emulator on loopback for trellis's tests: the ARM endpoints of
Microsoft.MachineLearningServices a submission uses (workspace, environment, code and model
versions -- a model from a job's output or from an uploaded code folder, listed by name --,
startPendingUpload, computes with their asynchronous operation, command jobs with model inputs,
and cancel), the identity platform's token endpoint (client credentials), blob storage behind SAS
URIs, run history (run details with log files), artifacts (contentinfo), and the MLflow REST
subset workers log with. Every ARM PUT body is checked against Azure's published schema
(schemas.py) and refused with 400 when it fails; submitted jobs run here (jobs.py).

    /usr/bin/python3 azureml_emulator.py --spec DIR --state DIR --ready-file FILE [options]

GET /_emulator/state and POST /_emulator/faults (429/503 answers, dropped connections, a
damaged file on one node) are for the tests. Nothing it logs contains a token or a secret."""
import argparse
import hashlib
import signal
import json
import os
import re
import secrets
import shutil
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jobs import Job  # noqa: E402
from schemas import API_VERSION, RequestSchemas  # noqa: E402

PROVIDER = "providers/Microsoft.MachineLearningServices"
WS = r"/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/" + PROVIDER + r"/workspaces/(?P<ws>[^/]+)"
CURATED = re.compile(r"azureml://registries/azureml/environments/([A-Za-z0-9._-]+)/(labels|versions)/([A-Za-z0-9._-]+)")


class ApiError(Exception):
    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


class Emulator:
    def __init__(self, args):
        self.args = args
        self.schemas = RequestSchemas(args.spec)
        self.lock = threading.RLock()
        self.base = None  # http://127.0.0.1:<port>, once bound
        self.ws_path = "/subscriptions/%s/resourceGroups/%s/%s/workspaces/%s" % (
            args.subscription, args.resource_group, PROVIDER, args.workspace)
        self.arm_tokens = set([args.issue_token]) if args.issue_token else set()
        self.environments, self.codes, self.computes, self.jobs, self.models = {}, {}, {}, {}, {}
        self.model_folders = {}  # (name, version) -> the folder its modelUri names
        self.uploads = {}       # upload id -> SAS signature
        self.operations = {}    # operation id -> [polls left, compute name]
        self.metrics = {}       # run id -> [metric]
        self.requests = []      # (method, path, status): no queries, headers or bodies
        self.rejected = []      # validation errors answered with 400
        self.faults = []        # [{method, path, status, times, retry_after, drop}]
        self.job_faults = {}
        self.log_lock = threading.Lock()

    def log(self, line):
        with self.log_lock:
            print(line, flush=True)

    # ------------------------------------------------------------------ dispatch
    def handle(self, method, raw_path, headers, body):
        url = urllib.parse.urlsplit(raw_path)
        path, query = url.path, urllib.parse.parse_qs(url.query)
        fault = self.take_fault(method, path)
        if fault:
            return fault
        routes = [
            ("POST", r"/(?P<tenant>[^/]+)/oauth2/v2\.0/token", self.token),
            ("GET", r"/discovery", self.discovery),
            ("PUT", r"/blob/(?P<upload>[^/]+)/(?P<file>.+)", self.put_blob),
            ("GET", r"/blob/(?P<upload>[^/]+)/(?P<file>.+)", self.get_blob),
            ("GET", r"/joblogs/(?P<job>[^/]+)/(?P<file>.+)", self.get_job_file),
            ("GET", r"/jobartifacts/(?P<job>[^/]+)/(?P<file>.+)", self.get_job_file),
            ("GET", r"/_emulator/state", self.state),
            ("POST", r"/_emulator/faults", self.set_faults),
            ("GET", r"/subscriptions/(?P<sub>[^/]+)/" + PROVIDER + r"/locations/(?P<loc>[^/]+)/computeOperationsStatus/(?P<op>[^/]+)",
             self.operation),
            ("GET", r"/history/v1\.0" + WS + r"/runs/(?P<run>[^/]+)/details", self.run_details),
            ("GET", r"/artifact/v2\.0" + WS + r"/artifacts/prefix/contentinfo/ExperimentRun/dcid\.(?P<run>[^/]+)/(?P<prefix>.+)",
             self.artifacts),
            ("POST", r"/mlflow/v1\.0" + WS + r"/api/2\.0/mlflow/runs/create", self.create_run),
            ("POST", r"/mlflow/v1\.0" + WS + r"/api/2\.0/mlflow/runs/log-metric", self.log_metric),
            ("POST", r"/mlflow/v1\.0" + WS + r"/api/2\.0/mlflow/runs/log-batch", self.log_batch),
            ("GET", r"/mlflow/v1\.0" + WS + r"/api/2\.0/mlflow/runs/get", self.mlflow_run),
            ("GET", r"/mlflow/v1\.0" + WS + r"/api/2\.0/mlflow/metrics/get-history", self.metric_history),
            ("GET", WS, self.workspace),
            ("GET|PUT", WS + r"/environments/(?P<name>[^/]+)/versions/(?P<version>[^/]+)", self.environment),
            ("POST", WS + r"/codes/(?P<name>[^/]+)/versions/(?P<version>[^/]+)/startPendingUpload", self.start_upload),
            ("GET|PUT", WS + r"/codes/(?P<name>[^/]+)/versions/(?P<version>[^/]+)", self.code),
            ("GET|PUT", WS + r"/computes/(?P<name>[^/]+)", self.compute),
            ("POST", WS + r"/jobs/(?P<name>[^/]+)/cancel", self.cancel_job),
            ("GET|PUT", WS + r"/jobs/(?P<name>[^/]+)", self.job),
            ("GET", WS + r"/models/(?P<name>[^/]+)", self.model_container),
            ("GET", WS + r"/models/(?P<name>[^/]+)/versions", self.model_versions),
            ("GET|PUT", WS + r"/models/(?P<name>[^/]+)/versions/(?P<version>[^/]+)", self.model_version),
        ]
        for methods, pattern, handler in routes:
            m = re.fullmatch(pattern, path)
            if m and method in methods.split("|"):
                request = {"method": method, "path": path, "query": query, "headers": headers, "body": body,
                           "match": m.groupdict()}
                if "ws" in request["match"] and not pattern.startswith("/mlflow"):
                    self.check_arm(request, pattern.startswith("/history") or pattern.startswith("/artifact"))
                return handler(request)
        raise ApiError(404, "NoRoute", "no such endpoint: %s %s" % (method, path))

    def take_fault(self, method, path):
        with self.lock:
            for f in self.faults:
                if f["times"] > 0 and f.get("method", method) == method and re.search(f["path"], path):
                    f["times"] -= 1
                    if f.get("drop"):
                        return "drop"
                    headers = {"Retry-After": str(f["retry_after"])} if "retry_after" in f else {}
                    return f["status"], {"error": {"code": "Injected", "message": "injected by the test"}}, headers
        return None

    # ------------------------------------------------------------------ checks
    def bearer(self, request):
        value = request["headers"].get("authorization", "")
        return value[7:] if value.startswith("Bearer ") else None

    def check_arm(self, request, data_plane):
        m = request["match"]
        if self.bearer(request) not in self.arm_tokens:
            raise ApiError(401, "InvalidAuthenticationToken", "The access token is invalid.")
        if not data_plane and request["query"].get("api-version") != [API_VERSION]:
            raise ApiError(400, "InvalidApiVersionParameter",
                           "The api-version '%s' is invalid; this emulator serves %s" % (
                               ",".join(request["query"].get("api-version", [])), API_VERSION))
        if (m["sub"], m["rg"], m["ws"]) != (self.args.subscription, self.args.resource_group, self.args.workspace):
            raise ApiError(404, "ResourceNotFound", "The Resource '%s/workspaces/%s' under resource group '%s' was not "
                           "found." % (PROVIDER.split("/", 1)[1], m["ws"], m["rg"]))

    def validated(self, request, resource, name):
        try:
            body = json.loads(request["body"] or b"null")
        except ValueError:
            raise ApiError(400, "InvalidRequestContent", "The request content is not valid JSON.")
        if not isinstance(body, dict):
            raise ApiError(400, "InvalidRequestContent", "The request content must be a JSON object.")
        errors = self.schemas.resource_errors(resource, name, body, request["query"]["api-version"][0])
        if errors:
            with self.lock:
                self.rejected.append({"path": request["path"], "errors": errors})
            raise ApiError(400, "UserError", "Request body fails the %s schema: %s" % (resource, " | ".join(errors)))
        return body

    def arm_id(self, relative):
        return self.ws_path + "/" + relative

    def stored(self, store, key, relative, kind):
        """The GET answer for a stored resource, or ARM's 404."""
        if key not in store:
            raise ApiError(404, "ResourceNotFound", "Could not find resource with ID: %s" % self.arm_id(relative))
        return 200, self.resource(relative, store[key], kind), {}

    def resource(self, relative, body, kind):
        out = {"id": self.arm_id(relative), "name": relative.rsplit("/", 1)[-1],
               "type": "Microsoft.MachineLearningServices/workspaces/" + kind}
        out.update(body)
        return out

    # ------------------------------------------------------------------ identity platform
    def token(self, request):
        form = urllib.parse.parse_qs(request["body"].decode())
        get = lambda k: (form.get(k) or [""])[0]
        if get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type", "error_description": "AADSTS70003: grant_type"}, {}
        if get("scope") != "https://management.azure.com/.default":
            return 400, {"error": "invalid_scope", "error_description": "AADSTS70011: the scope is not valid"}, {}
        if (request["match"]["tenant"], get("client_id"), get("client_secret")) != (
                self.args.tenant, self.args.client_id, self.args.client_secret):
            return 401, {"error": "invalid_client",
                         "error_description": "AADSTS7000215: Invalid client secret provided."}, {}
        token = self.args.issue_token or secrets.token_urlsafe(32)
        with self.lock:
            self.arm_tokens.add(token)
        return 200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}, {}

    # ------------------------------------------------------------------ workspace
    def workspace(self, request):
        return 200, {"id": self.ws_path, "name": self.args.workspace, "location": self.args.location,
                     "type": "Microsoft.MachineLearningServices/workspaces",
                     "properties": {"discoveryUrl": self.base + "/discovery",
                                    "mlFlowTrackingUri": "azureml://%s/mlflow/v1.0%s" % (
                                        self.base.split("://", 1)[1], self.ws_path)}}, {}

    def discovery(self, request):
        return 200, {"api": self.base, "catalog": self.base, "experimentation": self.base, "history": self.base,
                     "modelmanagement": self.base, "pipelines": self.base}, {}

    def environment(self, request):
        m = request["match"]
        key = (m["name"], m["version"])
        relative = "environments/%s/versions/%s" % key
        if request["method"] == "GET":
            return self.stored(self.environments, key, relative, "environments/versions")
        body = self.validated(request, "workspaces_environments_versions", m["version"])
        props = body["properties"]
        if not props.get("image") and not props.get("build"):
            raise ApiError(400, "UserError", "An environment needs an image or a build context.")
        with self.lock:
            existed = key in self.environments
            if existed and self.environments[key]["properties"] != props:
                raise ApiError(409, "Conflict", "Environment %s:%s exists with other content; versions are immutable" % key)
            self.environments[key] = body
        return (200 if existed else 201), self.resource(relative, body, "environments/versions"), {}

    # ------------------------------------------------------------------ code
    def start_upload(self, request):
        m = request["match"]
        try:
            body = json.loads(request["body"] or b"null")
        except ValueError:
            raise ApiError(400, "InvalidRequestContent", "The request content is not valid JSON.")
        errors = self.schemas.bicep_errors("PendingUploadRequestDto", body) if isinstance(body, dict) else ["not an object"]
        if errors or body.get("pendingUploadType") != "TemporaryBlobReference":
            with self.lock:
                self.rejected.append({"path": request["path"], "errors": errors or ["pendingUploadType"]})
            raise ApiError(400, "UserError", "startPendingUpload: %s" % " | ".join(errors or ["TemporaryBlobReference is the only supported type"]))
        upload = body.get("pendingUploadId") or secrets.token_hex(16)
        if not re.fullmatch(r"[A-Za-z0-9-]+", upload):
            raise ApiError(400, "UserError", "pendingUploadId must be letters, digits and dashes")
        signature = secrets.token_urlsafe(24)
        with self.lock:
            self.uploads[upload] = signature
        os.makedirs(self.blob_folder(upload), exist_ok=True)
        blob_uri = "%s/blob/%s" % (self.base, upload)
        return 200, {"blobReferenceForConsumption": {
            "blobUri": blob_uri, "storageAccountArmId": "/subscriptions/%s/resourceGroups/%s/providers/"
            "Microsoft.Storage/storageAccounts/emulated" % (self.args.subscription, self.args.resource_group),
            "credential": {"credentialType": "SAS", "sasUri": blob_uri + "?sv=2023-11-03&sr=c&sp=rcwl&sig=" +
                           urllib.parse.quote(signature)}},
            "pendingUploadId": upload, "pendingUploadType": "TemporaryBlobReference"}, {}

    def blob_folder(self, upload):
        return os.path.join(self.args.state, "blobs", upload)

    def check_sas(self, request, expected):
        if (request["query"].get("sig") or [None])[0] != expected:
            raise ApiError(403, "AuthenticationFailed", "Server failed to authenticate the request (SAS signature).")

    def put_blob(self, request):
        m = request["match"]
        with self.lock:
            signature = self.uploads.get(m["upload"])
        if signature is None:
            raise ApiError(404, "ContainerNotFound", "The specified container does not exist.")
        self.check_sas(request, signature)
        if request["headers"].get("x-ms-blob-type") != "BlockBlob":
            raise ApiError(400, "MissingRequiredHeader", "x-ms-blob-type must be BlockBlob")
        relative = urllib.parse.unquote(m["file"])
        if ".." in relative.split("/") or relative.startswith("/"):
            raise ApiError(400, "InvalidResourceName", "bad blob name")
        target = os.path.join(self.blob_folder(m["upload"]), relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as f:
            f.write(request["body"])
        return 201, b"", {"ETag": '"%s"' % hashlib.md5(request["body"]).hexdigest()}

    def get_blob(self, request):
        m = request["match"]
        with self.lock:
            signature = self.uploads.get(m["upload"])
        self.check_sas(request, signature)
        return self.file_answer(request, os.path.join(self.blob_folder(m["upload"]), urllib.parse.unquote(m["file"])))

    def code(self, request):
        m = request["match"]
        key = (m["name"], m["version"])
        relative = "codes/%s/versions/%s" % key
        if request["method"] == "GET":
            return self.stored(self.codes, key, relative, "codes/versions")
        body = self.validated(request, "workspaces_codes_versions", m["version"])
        uri = body["properties"].get("codeUri", "")
        upload = uri[len(self.base) + len("/blob/"):] if uri.startswith(self.base + "/blob/") else None
        if not upload or upload not in self.uploads or not os.listdir(self.blob_folder(upload)):
            raise ApiError(400, "UserError", "codeUri does not point to an uploaded folder")
        with self.lock:
            existed = key in self.codes
            self.codes[key] = body
        return (200 if existed else 201), self.resource(relative, body, "codes/versions"), {}

    # ------------------------------------------------------------------ compute
    def compute(self, request):
        m = request["match"]
        relative = "computes/" + m["name"]
        if request["method"] == "GET":
            return self.stored(self.computes, m["name"], relative, "computes")
        body = self.validated(request, "workspaces_computes", m["name"])
        if body.get("location") != self.args.location:
            raise ApiError(400, "BadRequest", "The compute location must be the workspace's (%s)" % self.args.location)
        body["properties"]["provisioningState"] = "Creating"
        op = secrets.token_hex(8)
        with self.lock:
            existed = m["name"] in self.computes
            self.computes[m["name"]] = body
            self.operations[op] = [self.args.compute_polls, m["name"]]
        url = "%s/subscriptions/%s/%s/locations/%s/computeOperationsStatus/%s?api-version=%s" % (
            self.base, self.args.subscription, PROVIDER, self.args.location, op, API_VERSION)
        return (200 if existed else 201), self.resource(relative, body, "computes"), {"Azure-AsyncOperation": url}

    def operation(self, request):
        if self.bearer(request) not in self.arm_tokens:
            raise ApiError(401, "InvalidAuthenticationToken", "The access token is invalid.")
        with self.lock:
            op = self.operations.get(request["match"]["op"])
            if op is None:
                raise ApiError(404, "NotFound", "no such operation")
            if op[0] > 0:
                op[0] -= 1
                return 200, {"status": "InProgress"}, {}
            self.computes[op[1]]["properties"]["provisioningState"] = "Succeeded"
        return 200, {"status": "Succeeded"}, {}

    # ------------------------------------------------------------------ jobs
    def job(self, request):
        m = request["match"]
        relative = "jobs/" + m["name"]
        if request["method"] == "GET":
            job = self.jobs.get(m["name"])
            if job is None:
                raise ApiError(404, "UserError", "Job %s not found" % m["name"])
            body = {"properties": dict(job.properties, status=job.status,
                                       services={"Studio": {"jobServiceType": "Studio",
                                                            "endpoint": "https://ml.azure.com/runs/%s?wsid=%s" % (
                                                                m["name"], self.ws_path)}})}
            return 200, self.resource(relative, body, "jobs"), {}
        body = self.validated(request, "workspaces_jobs", m["name"])
        p = body["properties"]
        if p.get("jobType") != "Command":
            raise ApiError(400, "UserError", "only command jobs are emulated")
        compute = p.get("computeId", "")
        if not compute.startswith(self.ws_path + "/computes/") or compute.rsplit("/", 1)[1] not in self.computes:
            raise ApiError(400, "UserError", "computeId %s is not a compute of this workspace" % compute)
        cluster = self.computes[compute.rsplit("/", 1)[1]]["properties"]["properties"]
        if p["resources"]["instanceCount"] > cluster["scaleSettings"]["maxNodeCount"]:
            raise ApiError(400, "UserError", "instanceCount exceeds the cluster's maxNodeCount")
        env = p["environmentId"]
        ids = {self.arm_id("environments/%s/versions/%s" % k) for k in self.environments}
        if not CURATED.fullmatch(env) and env not in ids:
            raise ApiError(400, "UserError", "environmentId %s is neither a curated environment nor a version here" % env)
        code = p.get("codeId", "")
        key = tuple(code[len(self.ws_path) + 1:].split("/")[1::2]) if code.startswith(self.ws_path + "/codes/") else None
        if key not in self.codes:
            raise ApiError(400, "UserError", "codeId %s is not a code version of this workspace" % code)
        inputs = self.input_folders(p.get("inputs") or {})
        with self.lock:
            if m["name"] in self.jobs:
                raise ApiError(409, "UserError", "Job %s exists; jobs cannot be changed" % m["name"])
            upload = self.codes[key]["properties"]["codeUri"].rsplit("/", 1)[1]
            folder = os.path.join(self.args.state, "jobs", m["name"])
            token = secrets.token_urlsafe(32)
            self.arm_tokens.add(token)  # the job's run token: MLflow accepts it
            mlflow_uri = "%s/mlflow/v1.0%s" % (self.base, self.ws_path)
            job = Job(m["name"], p, folder, self.blob_folder(upload), self.args.job_env, (mlflow_uri, token),
                      dict(self.job_faults), self.log, inputs)
            self.jobs[m["name"]] = job
            self.metrics.setdefault(m["name"], [])
        job.start()
        out = {"properties": dict(p, status="NotStarted")}
        return 201, self.resource(relative, out, "jobs"), {}

    def input_folders(self, inputs):
        """The folder each model input mounts: its uri names a model version of this workspace
        (azureml:<name>:<version>)."""
        folders = {}
        for name, spec in inputs.items():
            if spec.get("jobInputType") not in ("custom_model", "mlflow_model", "triton_model"):
                continue
            found = re.fullmatch(r"azureml:([A-Za-z0-9._-]+):([A-Za-z0-9._-]+)", spec.get("uri", ""))
            key = (found.group(1), found.group(2)) if found else None
            with self.lock:
                folder = self.model_folders.get(key)
            if folder is None:
                raise ApiError(400, "UserError", "input %s: %s is not a model version of this workspace" % (
                    name, spec.get("uri", "")))
            folders[name] = folder
        return folders

    def cancel_job(self, request):
        job = self.jobs.get(request["match"]["name"])
        if job is None:
            raise ApiError(404, "UserError", "Job not found")
        job.cancel()
        location = "%s%s/jobs/%s?api-version=%s" % (self.base, self.ws_path, job.name, API_VERSION)
        return 202, b"", {"Location": location}

    def sig(self, job):
        return hashlib.sha256((job + self.args.state).encode()).hexdigest()[:32]

    def run_details(self, request):
        job = self.jobs.get(request["match"]["run"])
        if job is None:
            raise ApiError(404, "RunNotFound", "Run not found")
        logs = {name: "%s/joblogs/%s/%s?sig=%s" % (self.base, job.name, name, self.sig(job.name))
                for name in job.log_files()}
        details = {"runId": job.name, "status": job.status, "logFiles": logs, "target": "emulated"}
        if job.error:
            details["error"] = {"error": {"code": "UserError", "message": job.error}}
        return 200, details, {}

    def artifacts(self, request):
        m = request["match"]
        job = self.jobs.get(m["run"])
        if job is None:
            raise ApiError(404, "RunNotFound", "Run not found")
        items = [{"contentUri": "%s/jobartifacts/%s/%s?sig=%s" % (self.base, job.name, f, self.sig(job.name)),
                  "origin": "ExperimentRun", "container": "dcid." + job.name, "path": f}
                 for f in job.artifact_files(m["prefix"])]
        return 200, {"value": items, "continuationToken": None}, {}

    def get_job_file(self, request):
        m = request["match"]
        job = self.jobs.get(m["job"])
        if job is None:
            raise ApiError(404, "BlobNotFound", "no such blob")
        self.check_sas(request, self.sig(job.name))
        relative = urllib.parse.unquote(m["file"])
        if ".." in relative.split("/"):
            raise ApiError(400, "InvalidResourceName", "bad blob name")
        folder = "artifacts" if request["path"].startswith("/jobartifacts/") else ""
        return self.file_answer(request, os.path.join(job.folder, folder, relative))

    def file_answer(self, request, file):
        if not os.path.isfile(file):
            raise ApiError(404, "BlobNotFound", "The specified blob does not exist.")
        with open(file, "rb") as f:
            data = f.read()
        wanted = re.fullmatch(r"bytes=(\d+)-", request["headers"].get("range", ""))
        if wanted:
            start = int(wanted.group(1))
            if start >= len(data):
                return 416, b"", {"Content-Range": "bytes */%d" % len(data)}
            return 206, data[start:], {"Content-Range": "bytes %d-%d/%d" % (start, len(data) - 1, len(data))}
        return 200, data, {}

    # ------------------------------------------------------------------ models
    def model_container(self, request):
        name = request["match"]["name"]
        versions = [int(v) for (n, v) in self.models if n == name and v.isdigit()]
        if not versions:
            raise ApiError(404, "UserError", "Model container %s not found" % name)
        return 200, self.resource("models/" + name, {"properties": {"latestVersion": str(max(versions)),
                                                                     "nextVersion": str(max(versions) + 1)}},
                                  "models"), {}

    def model_version(self, request):
        m = request["match"]
        key = (m["name"], m["version"])
        relative = "models/%s/versions/%s" % key
        if request["method"] == "GET":
            return self.stored(self.models, key, relative, "models/versions")
        body = self.validated(request, "workspaces_models_versions", m["version"])
        folder = self.model_uri_folder(body["properties"].get("modelUri", ""))
        with self.lock:
            if key in self.models:
                raise ApiError(409, "Conflict", "Model %s:%s exists" % key)
            body["properties"]["files"] = sorted(os.listdir(folder))
            self.models[key] = body
            self.model_folders[key] = folder
        return 201, self.resource(relative, body, "models/versions"), {}

    def model_uri_folder(self, uri):
        """The folder a modelUri names: a completed job's output, or the uploaded folder of a code
        version (a blob folder of this workspace's storage)."""
        found = re.fullmatch(r"azureml://jobs/([^/]+)/outputs/([A-Za-z0-9_]+)", uri)
        if found:
            job = self.jobs.get(found.group(1))
            if job and job.status == "Completed" and found.group(2) in job.outputs and \
                    os.listdir(job.outputs[found.group(2)]):
                return job.outputs[found.group(2)]
        with self.lock:
            uploaded = any(c["properties"].get("codeUri") == uri for c in self.codes.values())
        if uploaded:
            return self.blob_folder(uri.rsplit("/", 1)[1])
        raise ApiError(400, "UserError", "modelUri %s is neither an output of a completed job nor an uploaded "
                       "folder of this workspace" % uri)

    def model_versions(self, request):
        name = request["match"]["name"]
        with self.lock:
            versions = [(v, body) for (n, v), body in self.models.items() if n == name]
        if not versions:
            raise ApiError(404, "UserError", "Model container %s not found" % name)
        return 200, {"value": [self.resource("models/%s/versions/%s" % (name, v), body, "models/versions")
                               for v, body in versions]}, {}

    # ------------------------------------------------------------------ MLflow
    def mlflow_run_of(self, request, run_id):
        if self.bearer(request) not in self.arm_tokens:
            raise ApiError(401, "UNAUTHENTICATED", "invalid token")
        if run_id not in self.metrics:
            raise ApiError(404, "RESOURCE_DOES_NOT_EXIST", "Run '%s' not found" % run_id)
        return self.metrics[run_id]

    @staticmethod
    def metric_errors(m):
        errors = []
        if not isinstance(m.get("key"), str) or not m["key"]:
            errors.append("key must be a non-empty string")
        if not isinstance(m.get("value"), (int, float)) or isinstance(m.get("value"), bool):
            errors.append("value must be a number")
        if not isinstance(m.get("timestamp"), int):
            errors.append("timestamp must be an integer (milliseconds)")
        if "step" in m and not isinstance(m["step"], int):
            errors.append("step must be an integer")
        return errors

    def mlflow_body(self, request):
        try:
            return json.loads(request["body"])
        except ValueError:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "malformed JSON")

    def create_run(self, request):
        """A run outside any job (as mlflow.start_run makes one), for clients logging directly."""
        if self.bearer(request) not in self.arm_tokens:
            raise ApiError(401, "UNAUTHENTICATED", "invalid token")
        run_id = secrets.token_hex(16)
        with self.lock:
            self.metrics[run_id] = []
        return 200, {"run": {"info": {"run_id": run_id, "status": "RUNNING"}, "data": {}}}, {}

    def log_metric(self, request):
        body = self.mlflow_body(request)
        store = self.mlflow_run_of(request, body.get("run_id"))
        errors = self.metric_errors(body)
        if errors:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "; ".join(errors))
        with self.lock:
            store.append({k: body[k] for k in ("key", "value", "timestamp")} | {"step": body.get("step", 0)})
        return 200, {}, {}

    def log_batch(self, request):
        body = self.mlflow_body(request)
        store = self.mlflow_run_of(request, body.get("run_id"))
        metrics = body.get("metrics", [])
        if not isinstance(metrics, list) or len(metrics) > 1000:
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "metrics must be a list of at most 1000")
        errors = [e for m in metrics for e in self.metric_errors(m)]
        if errors or not isinstance(body.get("params", []), list) or not isinstance(body.get("tags", []), list):
            raise ApiError(400, "INVALID_PARAMETER_VALUE", "; ".join(errors) or "params and tags must be lists")
        with self.lock:
            store.extend({k: m[k] for k in ("key", "value", "timestamp")} | {"step": m.get("step", 0)} for m in metrics)
        return 200, {}, {}

    def mlflow_run(self, request):
        run_id = (request["query"].get("run_id") or [None])[0]
        store = self.mlflow_run_of(request, run_id)
        latest = {}
        for m in store:
            latest[m["key"]] = m
        job = self.jobs.get(run_id)
        return 200, {"run": {"info": {"run_id": run_id, "status": "FINISHED" if job and job.status == "Completed" else "RUNNING"},
                             "data": {"metrics": list(latest.values()), "params": [], "tags": []}}}, {}

    def metric_history(self, request):
        q = request["query"]
        store = self.mlflow_run_of(request, (q.get("run_id") or [None])[0])
        key = (q.get("metric_key") or [None])[0]
        return 200, {"metrics": [m for m in store if m["key"] == key]}, {}

    # ------------------------------------------------------------------ test control
    def state(self, request):
        with self.lock:
            return 200, {
                "requests": [{"method": m, "path": p, "status": s} for m, p, s in self.requests],
                "rejected": self.rejected,
                "environments": {"%s:%s" % k: v for k, v in self.environments.items()},
                "codes": {"%s:%s" % k: v for k, v in self.codes.items()},
                "computes": self.computes,
                "jobs": {n: {"status": j.status, "error": j.error, "properties": j.properties, "folder": j.folder,
                             "mlflow_token": j.mlflow[1]}
                         for n, j in self.jobs.items()},
                "models": {"%s:%s" % k: v for k, v in self.models.items()},
                "metrics": self.metrics,
            }, {}

    def set_faults(self, request):
        body = json.loads(request["body"])
        with self.lock:
            self.faults = body.get("responses", [])
            self.job_faults = body.get("jobs", {})
        return 200, {}, {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    emulator = None

    def log_message(self, *args):  # the emulator logs requests itself, without queries
        pass

    def serve(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        path = urllib.parse.urlsplit(self.path).path
        try:
            result = self.emulator.handle(method, self.path, headers, body)
        except ApiError as e:
            body = {"error_code": e.code, "message": e.message} if path.startswith("/mlflow/") else \
                {"error": {"code": e.code, "message": e.message}}
            result = (e.status, body, e.headers)
        except Exception as e:  # a bug in the emulator answers 500 and is logged
            result = (500, {"error": {"code": "EmulatorError", "message": repr(e)}}, {})
        if result == "drop":
            self.emulator.log("%s %s -> connection dropped (fault)" % (method, path))
            self.close_connection = True
            self.connection.shutdown(2)
            return
        status, payload, extra = result
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        with self.emulator.lock:
            self.emulator.requests.append((method, path, status))
        self.emulator.log("%s %s -> %d" % (method, path, status))
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream" if isinstance(payload, bytes) else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-ms-request-id", secrets.token_hex(8))
        for k, v in extra.items():
            self.send_header(k, v)
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(data)

    def do_GET(self):
        self.serve("GET")

    def do_PUT(self):
        self.serve("PUT")

    def do_POST(self):
        self.serve("POST")


def main():
    a = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    a.add_argument("--spec", required=True)
    a.add_argument("--state", required=True)
    a.add_argument("--ready-file", required=True)
    a.add_argument("--subscription", default="00000000-1111-2222-3333-444444444444")
    a.add_argument("--resource-group", default="trellis-rg")
    a.add_argument("--workspace", default="trellis-ws")
    a.add_argument("--location", default="westeurope")
    a.add_argument("--tenant", default="11111111-2222-3333-4444-555555555555")
    a.add_argument("--client-id", default="22222222-3333-4444-5555-666666666666")
    a.add_argument("--client-secret", default="")
    a.add_argument("--issue-token", default="", help="the token the token endpoint issues (also valid as is)")
    a.add_argument("--compute-polls", type=int, default=2, help="InProgress answers before a cluster is ready")
    a.add_argument("--job-env", action="append", default=[], help="KEY=VALUE every job process gets (its image's)")
    args = a.parse_args()
    args.job_env = dict(kv.split("=", 1) for kv in args.job_env)
    # The emulated image's python is this one, with torch (Debian's python3-torch).
    args.job_env.setdefault("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    shutil.rmtree(args.state, ignore_errors=True)
    os.makedirs(args.state)
    emulator = Emulator(args)
    Handler.emulator = emulator
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop the jobs below, then exit
    emulator.base = "http://127.0.0.1:%d" % server.server_address[1]
    with open(args.ready_file + ".tmp", "w") as f:
        f.write(emulator.base)
    os.replace(args.ready_file + ".tmp", args.ready_file)
    emulator.log("Azure ML emulator on %s (api-version %s), %d polymorphic bases patched" % (
        emulator.base, API_VERSION, len(emulator.schemas.patched_bases)))
    try:
        server.serve_forever()
    finally:
        for job in list(emulator.jobs.values()):
            job.cancel()


if __name__ == "__main__":
    main()

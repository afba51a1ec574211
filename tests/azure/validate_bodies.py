"""Validates request bodies against Azure's published schemas with the emulator's patches:
every FOLDER/<resource>__<label>.json, where <resource> is an ARM template resource definition
(workspaces_jobs ...) or a bicep-types type (PendingUploadRequestDto). Writes {file: [errors]}
to RESULT.

    /usr/bin/python3 validate_bodies.py SPEC_DIR API_VERSION FOLDER RESULT"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "emulator"))
from schemas import RequestSchemas  # noqa: E402

spec, api_version, folder, output = sys.argv[1:5]
schemas = RequestSchemas(spec)
result = {}
for name in sorted(os.listdir(folder)):
    if not name.endswith(".json"):
        continue
    resource = name.split("__", 1)[0]
    with open(os.path.join(folder, name)) as f:
        body = json.load(f)
    if resource in schemas.schema["resourceDefinitions"]:
        result[name] = schemas.resource_errors(resource, "trellis-test", body, api_version)
    else:
        result[name] = schemas.bicep_errors(resource, body)
with open(output, "w") as f:
    json.dump(result, f, indent=1)

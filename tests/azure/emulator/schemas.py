"""Azure's published request schemas for Microsoft.MachineLearningServices, loaded with the
patches that let a generic JSON Schema validator accept valid bodies (tests/azure/spec/README.md):
the external ARM `expression` $ref is replaced by its published definition, the polymorphic bases
lose `additionalProperties: false`, and `FlavorData` gets the REST shape back. POST bodies that the
template schema does not cover (startPendingUpload) are checked against bicep-types' definitions."""
import copy
import json
import os

import jsonschema

API_VERSION = "2025-09-01"
EXPRESSION_REF = "https://schema.management.azure.com/schemas/common/definitions.json#/definitions/expression"
# common/definitions.json#/definitions/expression, as published: an ARM template expression.
EXPRESSION = {"type": "string", "pattern": "^\\[([^\\[].*)?\\]$"}
# The REST spec's and bicep-types' FlavorData: {"data": {string: string}}.
FLAVOR_DATA = {
    "type": "object",
    "properties": {"data": {"type": "object", "additionalProperties": {"type": "string"}}},
}


def _replace_expression_refs(node):
    if isinstance(node, dict):
        if node.get("$ref") == EXPRESSION_REF:
            return dict(EXPRESSION)
        return {k: _replace_expression_refs(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_replace_expression_refs(v) for v in node]
    return node


def _is_polymorphic_base(definition):
    parts = definition.get("allOf")
    return (isinstance(parts, list) and len(parts) == 2 and isinstance(parts[1], dict)
            and "oneOf" in parts[1] and parts[0].get("additionalProperties") is False)


class RequestSchemas:
    """Validators for the PUT bodies of the resource types trellis sends, and for the POST body of
    startPendingUpload; each body is checked the way ARM sees it (name, type, apiVersion added)."""

    def __init__(self, spec_dir):
        with open(os.path.join(spec_dir, "arm-template-schema", "Microsoft.MachineLearningServices.json")) as f:
            schema = json.load(f)
        schema = _replace_expression_refs(schema)
        self.patched_bases = []
        for name, definition in schema["definitions"].items():
            if _is_polymorphic_base(definition):
                del definition["allOf"][0]["additionalProperties"]
                self.patched_bases.append(name)
        schema["definitions"]["FlavorData"] = FLAVOR_DATA
        self.schema = schema
        with open(os.path.join(spec_dir, "bicep-types", "types.json")) as f:
            self.bicep = json.load(f)

    def resource_errors(self, resource, name, body, api_version):
        """Errors of a PUT body for resource definition `resource` (e.g. workspaces_jobs)."""
        definition = self.schema["resourceDefinitions"][resource]
        document = dict(body)
        document.update({"name": name, "apiVersion": api_version,
                         "type": definition["properties"]["type"]["enum"][0]})
        root = dict(definition)
        root["definitions"] = self.schema["definitions"]
        validator = jsonschema.Draft4Validator(root)
        return [_describe(e) for e in validator.iter_errors(document)]

    def bicep_errors(self, type_name, body):
        """Errors of a body against a named bicep-types ObjectType (e.g. PendingUploadRequestDto)."""
        index = next(i for i, t in enumerate(self.bicep) if t.get("name") == type_name)
        return [_describe(e) for e in jsonschema.Draft7Validator(self._bicep_schema(index)).iter_errors(body)]

    def _bicep_schema(self, index):
        t = self.bicep[index]
        kind = t["$type"]
        if kind == "StringType":
            return {"type": "string"}
        if kind == "StringLiteralType":
            return {"const": t["value"]}
        if kind == "IntegerType":
            return {"type": "integer"}
        if kind == "BooleanType":
            return {"type": "boolean"}
        if kind == "AnyType":
            return {}
        if kind == "ArrayType":
            return {"type": "array", "items": self._bicep_schema(_ref(t["itemType"]))}
        if kind == "UnionType":
            return {"anyOf": [self._bicep_schema(_ref(e)) for e in t["elements"]]}
        if kind == "ObjectType":
            props = {k: self._bicep_schema(_ref(v["type"])) for k, v in t.get("properties", {}).items()}
            required = [k for k, v in t.get("properties", {}).items() if v.get("flags", 0) & 1]
            schema = {"type": "object", "properties": props, "required": required}
            extra = t.get("additionalProperties")
            schema["additionalProperties"] = self._bicep_schema(_ref(extra)) if extra else False
            return schema
        raise ValueError("bicep type %s is not supported here" % kind)


def _ref(r):
    return int(r["$ref"].split("/")[-1])


def _wrong_branch(leaf):
    """A leaf that only says "this is the other alternative": a discriminator (…Type) that does
    not match, or the ARM-expression alternative of a typed value."""
    single = leaf.validator == "const" or (leaf.validator == "enum" and len(leaf.validator_value) == 1)
    if single and leaf.absolute_path and str(leaf.absolute_path[-1]).endswith("Type"):
        return True
    return leaf.schema.get("pattern") == EXPRESSION["pattern"]


def _leaves(error):
    if not error.context:
        return [error]
    branches = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).extend(_leaves(sub))
    kept = [b for b in branches.values() if not any(_wrong_branch(l) for l in b)]
    return [l for b in (kept or branches.values()) for l in b]


def _describe(error):
    # A oneOf failure says only "not valid under any of the given schemas"; the sub-errors of the
    # alternative that was meant name the field that is wrong.
    leaves = sorted(_leaves(error), key=lambda e: -len(e.absolute_path))[:3]
    return "; ".join("%s: %s" % ("/".join(str(p) for p in e.absolute_path) or "(root)", e.message[:200])
                     for e in leaves)

"""Reads a TensorBoard event file without trellis's code: its own CRC-32C checks both masked CRCs
of every record, and the Event messages come from a descriptor built here with TensorBoard's
package and field numbers (not from trellis's event.proto). Usage: read_events.py EVENT_FILE
OUT_JSON; writes what it read to OUT_JSON, or exits 1 on a bad CRC or a short record."""
import json
import struct
import sys

from google.protobuf import descriptor_pb2, message_factory

F = descriptor_pb2.FieldDescriptorProto


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def masked(crc: int) -> int:
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def add_field(message, name, number, kind, type_name=None, oneof=None, repeated=False):
    field = message.field.add(name=name, number=number, type=kind,
                              label=F.LABEL_REPEATED if repeated else F.LABEL_OPTIONAL)
    if type_name:
        field.type_name = type_name
    if oneof is not None:
        field.oneof_index = oneof


def tensorboard_messages():
    """tensorboard/compat/proto/event.proto and summary.proto, the fields scalars use."""
    file = descriptor_pb2.FileDescriptorProto(name="reader/event.proto", package="tensorboard",
                                              syntax="proto3")
    summary = file.message_type.add(name="Summary")
    value = summary.nested_type.add(name="Value")
    value.oneof_decl.add(name="value")
    add_field(value, "node_name", 7, F.TYPE_STRING)
    add_field(value, "tag", 1, F.TYPE_STRING)
    add_field(value, "simple_value", 2, F.TYPE_FLOAT, oneof=0)
    add_field(value, "obsolete_old_style_histogram", 3, F.TYPE_BYTES, oneof=0)
    add_field(summary, "value", 1, F.TYPE_MESSAGE, ".tensorboard.Summary.Value", repeated=True)
    session_log = file.message_type.add(name="SessionLog")
    status = session_log.enum_type.add(name="SessionStatus")
    for name, number in [("STATUS_UNSPECIFIED", 0), ("START", 1), ("STOP", 2), ("CHECKPOINT", 3)]:
        status.value.add(name=name, number=number)
    add_field(session_log, "status", 1, F.TYPE_ENUM, ".tensorboard.SessionLog.SessionStatus")
    add_field(session_log, "checkpoint_path", 2, F.TYPE_STRING)
    add_field(session_log, "msg", 3, F.TYPE_STRING)
    event = file.message_type.add(name="Event")
    event.oneof_decl.add(name="what")
    add_field(event, "wall_time", 1, F.TYPE_DOUBLE)
    add_field(event, "step", 2, F.TYPE_INT64)
    add_field(event, "file_version", 3, F.TYPE_STRING, oneof=0)
    add_field(event, "graph_def", 4, F.TYPE_BYTES, oneof=0)
    add_field(event, "summary", 5, F.TYPE_MESSAGE, ".tensorboard.Summary", oneof=0)
    add_field(event, "session_log", 7, F.TYPE_MESSAGE, ".tensorboard.SessionLog", oneof=0)
    return message_factory.GetMessages([file])["tensorboard.Event"]


def records(data: bytes):
    at = 0
    while at < len(data):
        if len(data) - at < 12:
            sys.exit(f"record at byte {at}: {len(data) - at} bytes, too short for a header")
        header = data[at:at + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[at + 8:at + 12])
        if length_crc != masked(crc32c(header)):
            sys.exit(f"record at byte {at}: bad length CRC")
        body = data[at + 12:at + 12 + length]
        if len(body) != length or len(data) < at + 16 + length:
            sys.exit(f"record at byte {at}: truncated")
        (body_crc,) = struct.unpack("<I", data[at + 12 + length:at + 16 + length])
        if body_crc != masked(crc32c(body)):
            sys.exit(f"record at byte {at}: bad data CRC")
        yield body
        at += 16 + length


def as_json(event):
    what = event.WhichOneof("what")
    out = {"wall_time": event.wall_time.hex(), "step": event.step, "what": what}
    if what == "file_version":
        out["file_version"] = event.file_version
    elif what == "session_log":
        out["status"] = event.session_log.status
    elif what == "summary":
        out["values"] = [{"tag": v.tag, "kind": v.WhichOneof("value"),
                          "float_bits": struct.unpack("<I", struct.pack("<f", v.simple_value))[0]}
                         for v in event.summary.value]
    return out


def main():
    event_class = tensorboard_messages()
    with open(sys.argv[1], "rb") as f:
        data = f.read()
    events = []
    for body in records(data):
        event = event_class()
        event.ParseFromString(body)
        events.append(as_json(event))
    with open(sys.argv[2], "w") as out:
        json.dump({"events": events}, out)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Extract the SSM data-channel test vectors (V0-V16) from ssm-protocol.md section 14 into JSON.

Usage: python3 scripts/extract-vectors.py [SPEC_MD] [OUT_JSON]
Defaults: ../shared/docs/ssm-protocol.md (relative to the repository root) and
test/fixtures/vectors.json. Standard library only.

Every value is taken from the markdown and cross-checked against the rest of the vector before
it is written (payload length and SHA-256, frame length, hex-dump offsets, the header bytes of
the frame, the payload inside the frame, nonces in front of encrypted payloads), so a typo in
the spec or a parsing slip fails here instead of in the tests.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPEC = REPO_ROOT.parent / "shared" / "docs" / "ssm-protocol.md"
DEFAULT_OUT = REPO_ROOT / "test" / "fixtures" / "vectors.json"

HEADER_KEYS = {
    "MessageType": "messageType",
    "SchemaVersion": "schemaVersion",
    "CreatedDate": "createdDateMs",
    "SequenceNumber": "sequenceNumber",
    "Flags": "flags",
    "MessageId": "messageId",
    "PayloadType": "payloadType",
    "PayloadLength": "payloadLength",
}
STRING_HEADER_KEYS = {"messageType", "messageId"}
PAYLOAD_OFFSET = 120


class ExtractError(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise ExtractError(message)


def section_14(markdown: str) -> str:
    match = re.search(r"^## 14\. Test vectors\n(.*?)(?=^## |\Z)", markdown, re.S | re.M)
    check(match is not None, "section '## 14. Test vectors' not found")
    assert match is not None
    return match.group(1)


def unescape_text(text: str) -> str:
    """The spec shows CR/LF (and would show TAB/backslash) as backslash escapes inside backticks."""
    escapes = {"r": "\r", "n": "\n", "t": "\t", "\\": "\\"}
    return re.sub(r"\\([rnt\\])", lambda m: escapes[m.group(1)], text)


def normalize_direction(direction: str) -> str:
    """The spec writes both `agent → client` and `agent→client`; keep one spelling."""
    return re.sub(r"\s*→\s*", " → ", direction.strip())


def expand_byte_run(abbreviated: str) -> str:
    """`000102…3e3f` -> the full run of consecutive bytes from 0x00 to 0x3f (hex)."""
    head, _, tail = abbreviated.partition("…")
    check(tail != "", f"not an abbreviated byte run: {abbreviated}")
    first = bytes.fromhex(head)
    last = bytes.fromhex(tail)
    check(len(first) >= 2, f"byte run {abbreviated} needs two leading bytes to show its step")
    check(all(first[i + 1] == first[i] + 1 for i in range(len(first) - 1)), f"{abbreviated} is not consecutive")
    check(all(last[i + 1] == last[i] + 1 for i in range(len(last) - 1)), f"{abbreviated} is not consecutive")
    check(last[-1] >= first[0], f"{abbreviated} runs backwards")
    return bytes(range(first[0], last[-1] + 1)).hex()


def code_block_after(text: str, start: int) -> str:
    match = re.compile(r"```[a-z]*\n(.*?)```", re.S).search(text, start)
    check(match is not None, "code block not found")
    assert match is not None
    return match.group(1)


def parse_hex_dump(dump: str) -> bytes:
    out = bytearray()
    for line in dump.strip().splitlines():
        match = re.fullmatch(r"([0-9a-f]{4}): ([0-9a-f]+)", line.strip())
        check(match is not None, f"bad hex dump line: {line!r}")
        assert match is not None
        offset = int(match.group(1), 16)
        check(offset == len(out), f"hex dump offset {offset:#x} != {len(out):#x}")
        out += bytes.fromhex(match.group(2))
    return bytes(out)


def parse_header(line: str) -> dict[str, Any]:
    header: dict[str, Any] = {}
    for key, value in re.findall(r"(\w+)=(`[^`]*`|\S+)", line):
        check(key in HEADER_KEYS, f"unknown header field {key}")
        name = HEADER_KEYS[key]
        value = value.strip("`")
        header[name] = value if name in STRING_HEADER_KEYS else int(value)
    check(list(header) == list(HEADER_KEYS.values()), f"header fields missing or out of order: {line}")
    return header


def check_frame_header(vid: str, frame: bytes, header: dict[str, Any], digest: bytes) -> None:
    """Independent decode of the listed header fields from the frame bytes (layout of section 2)."""
    (header_length,) = struct.unpack_from(">I", frame, 0)
    check(header_length == 116, f"{vid}: HeaderLength {header_length}")
    message_type = frame[4:36].decode("ascii").rstrip(" ")
    schema, created, seq, flags = struct.unpack_from(">IQqQ", frame, 36)
    uuid_hex = (frame[72:80] + frame[64:72]).hex()
    message_id = "-".join([uuid_hex[0:8], uuid_hex[8:12], uuid_hex[12:16], uuid_hex[16:20], uuid_hex[20:]])
    payload_type, payload_length = struct.unpack_from(">II", frame, 112)
    decoded = {
        "messageType": message_type,
        "schemaVersion": schema,
        "createdDateMs": created,
        "sequenceNumber": seq,
        "flags": flags,
        "messageId": message_id,
        "payloadType": payload_type,
        "payloadLength": payload_length,
    }
    check(decoded == header, f"{vid}: frame header {decoded} != listed {header}")
    check(frame[80:112] == digest, f"{vid}: digest in the frame differs from the listed one")


def parse_frame_vector(vid: str, name: str, body: str) -> dict[str, Any]:
    direction_match = re.match(r"\s*(\w+ → \w+)\.\s*(.*?)\n\n", body, re.S)
    check(direction_match is not None, f"{vid}: no direction line")
    assert direction_match is not None
    direction = normalize_direction(direction_match.group(1))
    description = " ".join(direction_match.group(2).split())

    header_match = re.search(r"^- header: (.*)$", body, re.M)
    check(header_match is not None, f"{vid}: no header line")
    assert header_match is not None
    header = parse_header(header_match.group(1))

    digest_match = re.search(r"^- payload SHA-256: `([0-9a-f]{64})`$", body, re.M)
    check(digest_match is not None, f"{vid}: no payload SHA-256")
    assert digest_match is not None
    digest_hex = digest_match.group(1)

    hex_match = re.search(r"^- payload \(hex\): `([0-9a-f]*)`$", body, re.M)
    text_match = re.search(r"^- payload \(UTF-8 text, `\\r\\n` shown escaped\): `(.*)`$", body, re.M)
    check((hex_match is None) != (text_match is None), f"{vid}: need exactly one of payload hex / payload text")
    payload_text: str | None = None
    if hex_match is not None:
        payload = bytes.fromhex(hex_match.group(1))
    else:
        assert text_match is not None
        payload_text = unescape_text(text_match.group(1))
        payload = payload_text.encode("utf-8")
    # V2 also shows the text next to the hex: it must agree.
    shown_text = re.search(r"^- payload \(text\): `(.*)`( followed by CR LF)?$", body, re.M)
    if shown_text is not None:
        expected = shown_text.group(1) + ("\r\n" if shown_text.group(2) else "")
        check(payload.decode("utf-8") == expected, f"{vid}: payload hex and payload text disagree")
        payload_text = expected

    length_match = re.search(r"^- frame: (\d+) bytes$", body, re.M)
    check(length_match is not None, f"{vid}: no frame length")
    assert length_match is not None
    frame = parse_hex_dump(code_block_after(body, length_match.end()))

    check(len(payload) == header["payloadLength"], f"{vid}: payload is {len(payload)} bytes")
    check(hashlib.sha256(payload).hexdigest() == digest_hex, f"{vid}: payload SHA-256 mismatch")
    check(len(frame) == int(length_match.group(1)), f"{vid}: frame is {len(frame)} bytes")
    check(frame[PAYLOAD_OFFSET:] == payload, f"{vid}: frame does not end with the payload")
    check_frame_header(vid, frame, header, bytes.fromhex(digest_hex))

    vector: dict[str, Any] = {
        "id": vid,
        "name": name,
        "kind": "frame",
        "direction": direction,
        "description": description,
        "header": header,
        "payloadHex": payload.hex(),
    }
    if payload_text is not None:
        vector["payloadText"] = payload_text
    vector["payloadSha256"] = digest_hex
    vector["frameLength"] = len(frame)
    vector["frameHex"] = frame.hex()
    return vector


def add_encryption(vector: dict[str, Any], data_key_hex: str) -> None:
    """V14/V15: which half of the data key, the nonce and the plaintext, all from the description."""
    description = vector["description"]
    nonce_match = re.search(r"nonce `([0-9a-f]{24})`", description)
    plain_match = re.match(r"(?:Output|Input) `([^`]*)` encrypted", description)
    check(nonce_match is not None and plain_match is not None, f"{vector['id']}: no nonce / plaintext")
    assert nonce_match is not None and plain_match is not None
    agent_to_client = vector["direction"].startswith("agent")
    nonce_hex = nonce_match.group(1)
    check(vector["payloadHex"].startswith(nonce_hex), f"{vector['id']}: payload does not start with the nonce")
    plaintext = unescape_text(plain_match.group(1)).encode("utf-8")
    check(len(bytes.fromhex(vector["payloadHex"])) == 12 + len(plaintext) + 16, f"{vector['id']}: sizes")
    vector["encryption"] = {
        "dataKeyHex": data_key_hex,
        "keyHalf": "K[0:32]" if agent_to_client else "K[32:64]",
        "keyHex": data_key_hex[:64] if agent_to_client else data_key_hex[64:],
        "nonceHex": nonce_hex,
        "plaintextHex": plaintext.hex(),
    }


def parse_challenge_vector(body: str) -> dict[str, Any]:
    key_match = re.search(r"Data key `K` = `([0-9a-f]+…[0-9a-f]+)`", body)
    plain_match = re.search(r"plaintext \((\d+) bytes\) is `([0-9a-f]+)` repeated (\d+) times", body)
    check(key_match is not None and plain_match is not None, "V16: no data key / plaintext")
    assert key_match is not None and plain_match is not None
    data_key_hex = expand_byte_run(key_match.group(1))
    check(len(data_key_hex) == 128, "V16: data key is not 64 bytes")
    plaintext = bytes.fromhex(plain_match.group(2)) * int(plain_match.group(3))
    check(len(plaintext) == int(plain_match.group(1)), "V16: plaintext length")
    sealed_length_match = re.search(r"decodes to (\d+) bytes", body)
    check(sealed_length_match is not None, "V16: no sealed length")
    assert sealed_length_match is not None

    messages: dict[str, Any] = {}
    pattern = re.compile(
        r"^- (EncChallenge\w+) \(PayloadType (\d+), (\w+→\w+)\): key `(K\[\d+:\d+\])`, nonce `([0-9a-f]{24})`:\n"
        r"\s*`(\{.*\})`$",
        re.M,
    )
    for match in pattern.finditer(body):
        label, payload_type, direction, key_half, nonce_hex, json_text = match.groups()
        challenge = json.loads(json_text)["Challenge"]
        sealed = base64.b64decode(challenge, validate=True)
        check(len(sealed) == int(sealed_length_match.group(1)), f"V16 {label}: sealed length {len(sealed)}")
        check(sealed[:12].hex() == nonce_hex, f"V16 {label}: nonce is not in front")
        key_hex = data_key_hex[:64] if key_half == "K[0:32]" else data_key_hex[64:]
        check(key_half in ("K[0:32]", "K[32:64]"), f"V16 {label}: key half {key_half}")
        key = "request" if label == "EncChallengeRequest" else "response"
        messages[key] = {
            "label": label,
            "payloadType": int(payload_type),
            "direction": normalize_direction(direction),
            "keyHalf": key_half,
            "keyHex": key_hex,
            "nonceHex": nonce_hex,
            "json": json_text,
            "sealedHex": sealed.hex(),
        }
    check(set(messages) == {"request", "response"}, f"V16: found {sorted(messages)}")
    return {
        "id": "V16",
        "name": "encryption_challenge",
        "kind": "challenge",
        "direction": "agent → client, client → agent",
        "description": "EncChallengeRequest / EncChallengeResponse payloads (payload only, KMS sessions)",
        "dataKeyHex": data_key_hex,
        "challengePlaintextHex": plaintext.hex(),
        **messages,
    }


def extract(markdown: str) -> list[dict[str, Any]]:
    section = section_14(markdown)

    open_match = re.search(r"^OpenDataChannelInput \(V0,", section, re.M)
    check(open_match is not None, "V0 not found")
    assert open_match is not None
    open_text = code_block_after(section, open_match.end()).strip("\n")
    check("\n" not in open_text, "V0 spans more than one line")
    json.loads(open_text)
    vectors: list[dict[str, Any]] = [
        {
            "id": "V0",
            "name": "open_data_channel",
            "kind": "open",
            "direction": "client → service",
            "description": "OpenDataChannelInput, websocket text frame, exact bytes as encoding/json emits them",
            "text": open_text,
        }
    ]

    common_key = re.search(r"In V14/V15 the 64-byte data key is `([0-9a-f]+…[0-9a-f]+)`", section)
    check(common_key is not None, "V14/V15 data key not found")
    assert common_key is not None
    data_key_hex = expand_byte_run(common_key.group(1))
    check(len(data_key_hex) == 128, "V14/V15 data key is not 64 bytes")

    headings = list(re.finditer(r"^#### (V\d+) — (.*)$", section, re.M))
    for index, heading in enumerate(headings):
        vid = heading.group(1)
        end = headings[index + 1].start() if index + 1 < len(headings) else len(section)
        body = section[heading.end() : end]
        if vid == "V16":
            vectors.append(parse_challenge_vector(body))
            continue
        name_match = re.fullmatch(r"`(\w+)`", heading.group(2).strip())
        check(name_match is not None, f"{vid}: heading has no `name`")
        assert name_match is not None
        vector = parse_frame_vector(vid, name_match.group(1), body)
        if vid in ("V14", "V15"):
            add_encryption(vector, data_key_hex)
        vectors.append(vector)

    ids = [vector["id"] for vector in vectors]
    check(ids == [f"V{i}" for i in range(17)], f"expected V0..V16 in order, got {ids}")
    return vectors


def main(argv: list[str]) -> int:
    spec = Path(argv[1]) if len(argv) > 1 else DEFAULT_SPEC
    out = Path(argv[2]) if len(argv) > 2 else DEFAULT_OUT
    markdown = spec.read_text(encoding="utf-8")
    try:
        vectors = extract(markdown)
    except ExtractError as err:
        print(f"extract-vectors: {err}", file=sys.stderr)
        return 1
    document = {
        "source": "shared/docs/ssm-protocol.md §14 (Test vectors), extracted by scripts/extract-vectors.py; "
        "do not edit by hand",
        "specSha256": hashlib.sha256(markdown.encode("utf-8")).hexdigest(),
        "vectors": vectors,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"extract-vectors: wrote {len(vectors)} vectors to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""The Bot API as data: which parameters each method takes and which fields each type has.

`spec.json` (vendored, generated from the Bot API's api.json) is all the sandbox needs at run
time. Regenerate it after a Bot API update:

    python -m bot.sandbox.spec --from ../shared/telegram-bot-api/api.json
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from bot.sandbox.errors import JSON, UploadedFile, bad_request

SPEC_FILE = Path(__file__).with_name("spec.json")
_SCALARS = {"Integer", "Float", "String", "Boolean", "True", "InputFile"}
_ARRAY = "Array of "
# What Telegram says when these required parameters are missing; others get the generic text.
_MISSING = {
    "chat_id": "chat_id is empty",
    "text": "message text is empty",
    "photo": "there is no photo in the request",
}


def trim(api: Mapping[str, Any]) -> JSON:
    """The parts of api.json the sandbox uses: names, types and required flags."""

    def fields(entries: list[Mapping[str, Any]]) -> JSON:
        return {
            f["name"]: {"types": list(f["types"]), "required": bool(f["required"])} for f in entries
        }

    types: JSON = {}
    for name, kind in sorted(api["types"].items()):
        if "subtypes" in kind:
            types[name] = {"subtypes": list(kind["subtypes"])}
        else:
            types[name] = {"fields": fields(kind.get("fields", []))}
    methods: JSON = {
        name: {"parameters": fields(m.get("fields", [])), "returns": list(m["returns"])}
        for name, m in sorted(api["methods"].items())
    }
    return {"version": api["version"], "methods": methods, "types": types}


def dumps(spec: Mapping[str, Any]) -> str:
    """The vendored file's exact text (stable, so a regenerated copy diffs cleanly)."""
    return json.dumps(spec, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


@functools.cache
def load() -> JSON:
    """The vendored spec (packaged with the sandbox)."""
    text = resources.files("bot.sandbox").joinpath("spec.json").read_text(encoding="utf-8")
    spec: JSON = json.loads(text)
    return spec


def check_call(method: str, params: Mapping[str, Any]) -> list[str]:
    """Refuse a call missing a required parameter (Telegram's 400); return unknown names."""
    declared = load()["methods"].get(method, {}).get("parameters", {})
    for name, field in declared.items():
        value = params.get(name)
        if field["required"] and (value is None or value == ""):
            raise bad_request(_MISSING.get(name, f'parameter "{name}" is required'))
    # A file part named by an attach://name reference is part of the call, not a parameter.
    attached = {
        v[len("attach://") :]
        for v in params.values()
        if isinstance(v, str) and v[:9] == "attach://"
    }
    return [
        name
        for name, value in params.items()
        if name not in declared and not (isinstance(value, UploadedFile) and name in attached)
    ]


def problems(value: Any, types: list[str], path: str = "$") -> list[str]:
    """Where `value` departs from any of `types` (Bot API type names); [] when it fits one."""
    found: list[list[str]] = []
    for name in types:
        mismatch = _problems(value, name, path)
        if not mismatch:
            return []
        found.append(mismatch)
    # The closest candidate explains the mismatch best (e.g. which ChatMember it meant to be).
    return min(found, key=len) if found else [f"{path}: no type given"]


def _problems(value: Any, name: str, path: str) -> list[str]:
    if name.startswith(_ARRAY):
        if not isinstance(value, list):
            return [f"{path}: expected {name}, got {type(value).__name__}"]
        out: list[str] = []
        for i, item in enumerate(value):
            out += _problems(item, name[len(_ARRAY) :], f"{path}[{i}]")
        return out
    if name in _SCALARS:
        ok = {
            "Integer": isinstance(value, int) and not isinstance(value, bool),
            "Float": isinstance(value, int | float) and not isinstance(value, bool),
            "String": isinstance(value, str),
            "Boolean": isinstance(value, bool),
            "True": value is True,
            "InputFile": True,
        }[name]
        return [] if ok else [f"{path}: expected {name}, got {value!r}"]
    kind = load()["types"].get(name)
    if kind is None:
        return [f"{path}: unknown type {name}"]
    if "subtypes" in kind:
        return problems(value, kind["subtypes"], path)
    if not isinstance(value, dict):
        return [f"{path}: expected {name} object, got {type(value).__name__}"]
    fields = kind["fields"]
    out = [f"{path}: {name} has no field {key!r}" for key in value if key not in fields]
    for key, field in fields.items():
        if key in value:
            out += problems(value[key], field["types"], f"{path}.{key}")
        elif field["required"]:
            out.append(f"{path}: {name} lacks required field {key!r}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.sandbox.spec", description=__doc__)
    parser.add_argument("--from", dest="source", type=Path, required=True, help="api.json")
    parser.add_argument("--out", type=Path, default=SPEC_FILE, help="where to write spec.json")
    args = parser.parse_args(argv)
    try:
        api = json.loads(args.source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"spec: cannot read {args.source}: {exc}", file=sys.stderr)
        return 2
    args.out.write_text(dumps(trim(api)), encoding="utf-8")
    print(f"spec: wrote {args.out} ({api['version']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

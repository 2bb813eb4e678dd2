"""Constant folding of PowerShell expressions, read from the tree-sitter-powershell tree.

Attackers build the words a detector looks for at run time: ``'Inv'+'oke-Expression'``,
``'{1}{0}' -f 'ex','i'``, ``[char[]](105,101,120) -join ''``, ``[Text.Encoding]::Unicode.GetString(
[Convert]::FromBase64String('…'))``, ``'xEI'[-1..-3] -join ''``, ``$a.Replace('#','')``. This
module evaluates exactly the side-effect-free part of the language those tricks use, the way
PowerShell would, and gives up (``None``) on anything else. It never runs code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tree_sitter import Node

from ssm_warden.detect.windows.values import (
    Value,
    add_values,
    as_text,
    bytes_of,
    bytes_to_text,
    char_of,
    decode_base64,
    format_values,
    join_values,
    replace_values,
    string_method,
    strip_backticks,
)

__all__ = [
    "ENVIRONMENT",
    "Folder",
    "Value",
    "as_text",
    "bytes_to_text",
    "decode_base64",
    "strip_backticks",
    "text_of",
    "unwrap",
]


MAX_VALUE = 1 << 20  # never build a folded string larger than this (a megabyte)

_ENV = {
    "comspec": "C:\\Windows\\system32\\cmd.exe",
    "systemroot": "C:\\Windows",
    "windir": "C:\\Windows",
    "programdata": "C:\\ProgramData",
    "allusersprofile": "C:\\ProgramData",
    "programfiles": "C:\\Program Files",
    "public": "C:\\Users\\Public",
    "systemdrive": "C:",
    "pathext": ".COM;.EXE;.BAT;.CMD;.VBS;.VBE;.JS;.JSE;.WSF;.WSH;.MSC",
    "psmodulepath": "C:\\Windows\\system32\\WindowsPowerShell\\v1.0\\Modules",
    # The session's own user (the agent runs as ssm-user unless run-as is configured).
    "username": "ssm-user",
    "userprofile": "C:\\Users\\ssm-user",
    "appdata": "C:\\Users\\ssm-user\\AppData\\Roaming",
    "localappdata": "C:\\Users\\ssm-user\\AppData\\Local",
    "temp": "C:\\Users\\ssm-user\\AppData\\Local\\Temp",
    "tmp": "C:\\Users\\ssm-user\\AppData\\Local\\Temp",
    "homedrive": "C:",
}
ENVIRONMENT = _ENV

_WRAPPERS = frozenset(
    {
        "pipeline",
        "pipeline_chain",
        "logical_expression",
        "bitwise_expression",
        "comparison_expression",
        "additive_expression",
        "multiplicative_expression",
        "format_expression",
        "range_expression",
        "array_literal_expression",
        "unary_expression",
        "expression_with_unary_operator",
        "argument_expression",
        "logical_argument_expression",
        "bitwise_argument_expression",
        "comparison_argument_expression",
        "additive_argument_expression",
        "multiplicative_argument_expression",
        "format_argument_expression",
        "range_argument_expression",
        "statement_list",
        "command_name_expr",
        "path_command_name",
    }
)


def text_of(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def unwrap(node: Node) -> Node:
    """The one meaningful node under a chain of single-child precedence wrappers."""
    while node.type in _WRAPPERS and node.child_count == 1 and node.named_child_count == 1:
        child = node.named_child(0)
        if child is None:  # cannot happen with one named child; keeps the type checker sure
            break
        node = child
    return node


class Folder:
    """Evaluates constant expressions with the variables assigned so far in the same script."""

    def __init__(self, variables: dict[str, Value] | None = None) -> None:
        self.variables: dict[str, Value] = variables if variables is not None else {}
        self.folded: list[str] = []  # every string built by folding, for the script view

    # -- entry point --------------------------------------------------------------------------------
    def value(self, node: Node, depth: int = 0) -> Value | None:
        if depth > 60:
            return None
        node = unwrap(node)
        handler = _HANDLERS.get(node.type)
        if handler is None:
            return None
        result = handler(self, node, depth + 1)
        if isinstance(result, str) and len(result) > MAX_VALUE:
            return None
        return result

    def remember(self, value: Value | None, node: Node) -> None:
        """Keep a string that folding built (not one typed verbatim) for the script view."""
        text = as_text(value)
        if text and text != text_of(node).strip("'\""):
            self.folded.append(text)

    # -- literals -----------------------------------------------------------------------------------
    def _string(self, node: Node, depth: int) -> Value | None:
        child = node.named_children[0] if node.named_child_count else node
        raw = text_of(child)
        kind = child.type
        if kind in ("verbatim_string_characters", "verbatim_here_string_characters"):
            if raw.startswith("@'"):
                return raw[2:-2].strip("\r\n")
            return raw[1:-1].replace("''", "'")
        if kind in ("expandable_string_literal", "expandable_here_string_literal"):
            return self._expandable(child, raw, depth)
        return raw

    def _expandable(self, node: Node, raw: str, depth: int) -> Value | None:
        body = raw[2:-2].strip("\r\n") if raw.startswith('@"') else raw[1:-1]
        if node.named_child_count == 0:
            return strip_backticks(body.replace('""', '"'))
        # Substitute variables and $( ) sub-expressions that fold; keep the rest as written.
        out: list[str] = []
        pos = node.start_byte
        source = node.text or b""
        base = node.start_byte
        for child in node.named_children:
            out.append(source[pos - base : child.start_byte - base].decode("utf-8", "replace"))
            folded: Value | None = None
            if child.type == "variable":
                folded = self._variable(child, depth)
            elif child.type == "sub_expression":
                inner = [c for c in child.named_children if c.type == "statement_list"]
                folded = self.value(inner[0], depth) if inner else None
            text = as_text(folded)
            out.append(text if text is not None else text_of(child))
            pos = child.end_byte
        out.append(source[pos - base :].decode("utf-8", "replace"))
        joined = "".join(out)
        joined = joined[2:-2] if joined.startswith('@"') else joined[1:-1]
        return strip_backticks(joined.replace('""', '"'))

    def _integer(self, node: Node, depth: int) -> Value | None:
        raw = text_of(node).lower().rstrip("l")
        try:
            return int(raw, 16) if raw.startswith("0x") else int(raw)
        except ValueError:
            return None

    def _variable(self, node: Node, depth: int) -> Value | None:
        name = text_of(node).lstrip("$@").strip("{}").lower()
        if name.startswith("env:"):
            return _ENV.get(name[4:])
        if name in ("true", "false", "null"):
            return None
        return self.variables.get(name.removeprefix("script:").removeprefix("global:"))

    def _array(self, node: Node, depth: int) -> Value | None:
        items: list[Value] = []
        for child in node.named_children:
            v = self.value(child, depth)
            if v is None:
                return None
            if isinstance(v, list) and child.type == "array_literal_expression":
                items.extend(v)
            else:
                items.append(v)
        return items

    def _parenthesized(self, node: Node, depth: int) -> Value | None:
        inner = list(node.named_children)
        if len(inner) != 1:
            return None
        return self.value(inner[0], depth)

    def _sub_expression(self, node: Node, depth: int) -> Value | None:
        inner = [c for c in node.named_children if c.type == "statement_list"]
        return self.value(inner[0], depth) if inner else None

    def _array_expression(self, node: Node, depth: int) -> Value | None:
        inner = [c for c in node.named_children if c.type == "statement_list"]
        if not inner:
            return []
        v = self.value(inner[0], depth)
        if v is None:
            return None
        return v if isinstance(v, list) else [v]

    def _hash(self, node: Node, depth: int) -> Value | None:
        table: dict[str, Any] = {}
        body = [c for c in node.named_children if c.type == "hash_literal_body"]
        for entry in body[0].named_children if body else []:
            if entry.type != "hash_entry" or entry.named_child_count < 2:
                continue
            key_node, value_node = entry.named_children[0], entry.named_children[-1]
            key = as_text(self.value(key_node, depth)) or strip_backticks(text_of(key_node))
            folded = self.value(value_node, depth)
            table[key.strip("'\"")] = folded if folded is not None else text_of(value_node)
        return table

    # -- operators ----------------------------------------------------------------------------------
    def _binary(self, node: Node, depth: int) -> Value | None:
        """``+`` (strings, arrays, numbers), ``-f``, ``-join``, ``-replace``, ``*`` on strings."""
        children = node.children
        if len(children) == 2 and text_of(children[0]) in ("-", "+"):
            operand = self.value(children[1], depth)
            if isinstance(operand, int) and not isinstance(operand, bool):
                return -operand if text_of(children[0]) == "-" else operand
            return None
        if len(children) == 2 and text_of(children[0]).lower() in ("-join", "-split"):
            operand = self.value(children[1], depth)
            if text_of(children[0]).lower() == "-join" and isinstance(operand, list):
                parts = [as_text(v) for v in operand]
                return None if any(p is None for p in parts) else "".join(p or "" for p in parts)
            return None
        if len(children) != 3:
            return None
        left_node, op_node, right_node = children
        op = strip_backticks(text_of(op_node)).lower()
        left = self.value(left_node, depth)
        if left is None:
            return None
        right = self.value(right_node, depth)
        result: Value | None = None
        if op == "+":
            result = add_values(left, right)
        elif op == "-f":
            result = format_values(left, right)
        elif op == "-join":
            result = join_values(left, right)
        elif op in ("-replace", "-ireplace", "-creplace"):
            result = replace_values(left, right, op)
        elif op == "*" and isinstance(left, str) and isinstance(right, int) and 0 <= right <= 64:
            result = left * right
        elif op in ("-bxor",) and isinstance(left, int) and isinstance(right, int):
            result = left ^ right
        if result is not None:
            self.remember(result, node)
        return result

    def _range(self, node: Node, depth: int) -> Value | None:
        children = node.children
        if len(children) != 3 or text_of(children[1]) != "..":
            return None
        lo, hi = self.value(children[0], depth), self.value(children[2], depth)
        if not isinstance(lo, int) or not isinstance(hi, int) or abs(hi - lo) > 65536:
            return None
        step = 1 if hi >= lo else -1
        return list(range(lo, hi + step, step))

    def _cast(self, node: Node, depth: int) -> Value | None:
        type_node = node.named_children[0] if node.named_child_count else None
        if type_node is None or node.named_child_count < 2:
            return None
        raw = text_of(type_node).lower().replace(" ", "")
        type_name = (raw[1:-1] if raw.startswith("[") and raw.endswith("]") else raw).replace("system.", "")
        value = self.value(node.named_children[1], depth)
        if value is None:
            return None
        if type_name == "char" and isinstance(value, int):
            return char_of(value)
        if type_name == "char" and isinstance(value, list):  # [char]65,66 casts only the first
            return None
        if type_name == "char[]" and isinstance(value, list):
            chars = [char_of(v) if isinstance(v, int) else v for v in value]
            return chars if all(isinstance(c, str) for c in chars) else None
        if type_name in ("char[]",) and isinstance(value, str):
            return list(value)
        if type_name == "string":
            return as_text(value)
        if type_name in ("int", "byte", "int32") and isinstance(value, str) and value.strip().isdigit():
            return int(value)
        if type_name in ("int", "byte", "int32") and isinstance(value, int):
            return value
        return value if type_name in ("scriptblock",) else None

    def _element_access(self, node: Node, depth: int) -> Value | None:
        """``'abc'[2]``, ``$s[-1..-9]`` (reversal), ``$s[0,2,4]``."""
        if node.named_child_count < 2:
            return None
        target = self.value(node.named_children[0], depth)
        index = self.value(node.named_children[-1], depth)
        if not isinstance(target, (str, list)) or index is None:
            return None
        indices = index if isinstance(index, list) else [index]
        picked: list[Any] = []
        for i in indices:
            if not isinstance(i, int) or not -len(target) <= i < len(target):
                return None
            picked.append(target[i])
        return picked if isinstance(index, list) else picked[0]

    # -- .NET calls ---------------------------------------------------------------------------------
    def _invocation(self, node: Node, depth: int) -> Value | None:
        names = [c for c in node.named_children if c.type == "member_name"]
        args_nodes = [c for c in node.named_children if c.type == "argument_list"]
        if not names or not args_nodes:
            return None
        method = strip_backticks(as_text(self.value(names[-1], depth)) or text_of(names[-1])).lower()
        method = method.strip("'\"")
        args = self._arguments(args_nodes[0], depth)
        if args is None:
            return None
        target_node = node.named_children[0]
        target_text = text_of(target_node).lower().replace(" ", "")
        if method == "frombase64string" and len(args) == 1 and isinstance(args[0], str):
            return decode_base64(args[0])
        if method == "getstring" and len(args) >= 1 and isinstance(args[0], (bytes, list)):
            data = args[0] if isinstance(args[0], bytes) else bytes_of(args[0])
            if data is None:
                return None
            encoding = target_text.rsplit("::", 1)[-1].rsplit(".", 1)[-1]
            text = bytes_to_text(data, encoding)
            self.folded.append(text)
            return text
        if method == "join" and "string]" in target_text and len(args) == 2 and isinstance(args[1], list):
            return join_values(args[1], args[0])
        if method == "create" and "scriptblock" in target_text and args and isinstance(args[0], str):
            return args[0]
        target = self.value(target_node, depth)
        result = string_method(target, method, args)
        if result is not None:
            self.remember(result, node)
        return result

    def _arguments(self, node: Node, depth: int) -> list[Value] | None:
        lists = [c for c in node.named_children if c.type == "argument_expression_list"]
        if not lists:
            return []
        out: list[Value] = []
        for child in lists[0].named_children:
            v = self.value(child, depth)
            if v is None:
                return None
            out.append(v)
        return out

    def _member_name(self, node: Node, depth: int) -> Value | None:
        if node.named_child_count and node.named_children[0].type != "simple_name":
            return self.value(node.named_children[0], depth)
        return strip_backticks(text_of(node)).strip("'\"")

    def _script_block(self, node: Node, depth: int) -> Value | None:
        text = text_of(node)
        return text[1:-1] if text.startswith("{") and text.endswith("}") else None


_HANDLERS: dict[str, Callable[[Folder, Node, int], Value | None]] = {
    "string_literal": Folder._string,
    "expandable_string_literal": lambda f, n, d: f._expandable(n, text_of(n), d),
    "verbatim_string_characters": lambda f, n, d: text_of(n)[1:-1].replace("''", "'"),
    "integer_literal": Folder._integer,
    "decimal_integer_literal": Folder._integer,
    "hexadecimal_integer_literal": Folder._integer,
    "variable": Folder._variable,
    "array_literal_expression": Folder._array,
    "parenthesized_expression": Folder._parenthesized,
    "sub_expression": Folder._sub_expression,
    "array_expression": Folder._array_expression,
    "hash_literal_expression": Folder._hash,
    "additive_expression": Folder._binary,
    "additive_argument_expression": Folder._binary,
    "multiplicative_expression": Folder._binary,
    "multiplicative_argument_expression": Folder._binary,
    "format_expression": Folder._binary,
    "format_argument_expression": Folder._binary,
    "comparison_expression": Folder._binary,
    "comparison_argument_expression": Folder._binary,
    "bitwise_expression": Folder._binary,
    "expression_with_unary_operator": Folder._binary,
    "range_expression": Folder._range,
    "range_argument_expression": Folder._range,
    "cast_expression": Folder._cast,
    "element_access": Folder._element_access,
    "invokation_expression": Folder._invocation,
    "member_name": Folder._member_name,
    "script_block_expression": Folder._script_block,
    "script_block": Folder._script_block,
    "generic_token": lambda f, n, d: strip_backticks(text_of(n)),
    "simple_name": lambda f, n, d: strip_backticks(text_of(n)),
}

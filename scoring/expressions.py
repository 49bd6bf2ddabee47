"""A small, safe expression language: tokenizer, parser, JSON form and closure compiler.

Grammar (lowest to highest precedence)::

    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := sum (("==" | "=" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "not in") sum)?
    sum     := product (("+" | "-") product)*
    product := unary (("*" | "/") unary)*
    unary   := "-" unary | primary
    primary := NUMBER | STRING | true | false | null | "." | NAME | NAME "(" args ")"
             | "${" any-id "}" | "(" expr ")" | "[" items "]"

Names are item ids (``B.1.1``, ``A.2.14.1``), calculated items and rule variables,
``facts.NAME`` for facts, ``section.ID`` for a section score, ``total``, ``max_total``,
``percent`` and ``level``. ``.`` is the item's own value (in constraints). An unanswered item is
``null``: comparisons with null are false, arithmetic with null is null, sum/count/min/max skip
nulls. Nothing is ever passed to Python's ``eval``.

One module (about 500 lines) because the tokenizer, the parser, the JSON form and the compiler
share the grammar's tables; splitting them would spread one grammar over several files.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import ExpressionError

Node = tuple[Any, ...]
Compiled = Callable[[Mapping[str, Any], Mapping[str, Any]], Any]

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>\d+(?:\.\d+)?|\.\d+)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<braced>\$\{[^}]*\})
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)
  | (?P<op>==|!=|<=|>=|[<>=+\-*/(),\[\].])
    """,
    re.VERBOSE,
)

KEYWORDS = {"and", "or", "not", "in", "true", "false", "null"}
COMPARATORS = {"==", "=", "!=", "<", "<=", ">", ">=", "in", "not in"}


@dataclass(frozen=True, slots=True)
class Token:
    """One lexical token: kind, text and 1-based column."""

    kind: str
    text: str
    column: int


def tokenize(text: str) -> list[Token]:
    """Split an expression into tokens, raising ExpressionError at the first bad character."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ExpressionError(f"unexpected character {text[pos]!r}", pos + 1)
        kind = match.lastgroup or ""
        value = match.group()
        if kind != "ws":
            if kind == "name" and value in KEYWORDS:
                kind = "keyword"
            elif kind == "braced":
                kind, value = "name", value[2:-1].strip()
            tokens.append(Token(kind, value, pos + 1))
        pos = match.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def accept(self, *texts: str) -> Token | None:
        token = self.current
        if token.kind in ("op", "keyword") and token.text in texts:
            self.index += 1
            return token
        return None

    def expect(self, text: str) -> Token:
        token = self.accept(text)
        if token is None:
            found = self.current.text or "end of expression"
            raise ExpressionError(f"expected {text!r}, found {found!r}", self.current.column)
        return token

    def parse(self) -> Node:
        node = self.parse_or()
        if self.current.kind != "end":
            raise ExpressionError(f"unexpected {self.current.text!r}", self.current.column)
        return node

    def parse_or(self) -> Node:
        node = self.parse_and()
        while self.accept("or"):
            node = ("or", node, self.parse_and())
        return node

    def parse_and(self) -> Node:
        node = self.parse_not()
        while self.accept("and"):
            node = ("and", node, self.parse_not())
        return node

    def parse_not(self) -> Node:
        if self.accept("not"):
            return ("not", self.parse_not())
        return self.parse_compare()

    def parse_compare(self) -> Node:
        node = self.parse_sum()
        token = self.current
        if token.kind in ("op", "keyword"):
            op = token.text
            if op == "not" and self.tokens[self.index + 1].text == "in":
                self.index += 2
                return ("cmp", "not in", node, self.parse_sum())
            if op in COMPARATORS:
                self.index += 1
                return ("cmp", "==" if op == "=" else op, node, self.parse_sum())
        return node

    def parse_sum(self) -> Node:
        node = self.parse_product()
        while True:
            token = self.accept("+", "-")
            if token is None:
                return node
            node = ("arith", token.text, node, self.parse_product())

    def parse_product(self) -> Node:
        node = self.parse_unary()
        while True:
            token = self.accept("*", "/")
            if token is None:
                return node
            node = ("arith", token.text, node, self.parse_unary())

    def parse_unary(self) -> Node:
        if self.accept("-"):
            return ("neg", self.parse_unary())
        return self.parse_primary()

    def parse_primary(self) -> Node:
        token = self.advance()
        if token.kind == "number":
            number: float | int = float(token.text) if "." in token.text else int(token.text)
            return ("lit", number)
        if token.kind == "string":
            body = token.text[1:-1]
            return ("lit", re.sub(r"\\(.)", r"\1", body))
        if token.kind == "keyword" and token.text in ("true", "false", "null"):
            return ("lit", {"true": True, "false": False, "null": None}[token.text])
        if token.kind == "name":
            if self.current.text == "(" and self.current.kind == "op":
                if token.text not in FUNCTIONS:
                    raise ExpressionError(
                        f"unknown function {token.text}", token.column, "unknown_function",
                        name=token.text,
                    )
                self.advance()
                args: list[Node] = []
                if not self.accept(")"):
                    args.append(self.parse_or())
                    while self.accept(","):
                        args.append(self.parse_or())
                    self.expect(")")
                return ("call", token.text, *args)
            if not token.text:
                raise ExpressionError("empty ${} reference", token.column)
            return ("ref", token.text)
        if token.kind == "op" and token.text == ".":
            return ("self",)
        if token.kind == "op" and token.text == "(":
            node = self.parse_or()
            self.expect(")")
            return node
        if token.kind == "op" and token.text == "[":
            items: list[Node] = []
            if not self.accept("]"):
                items.append(self.parse_or())
                while self.accept(","):
                    items.append(self.parse_or())
                self.expect("]")
            return ("list", *items)
        found = token.text or "end of expression"
        raise ExpressionError(f"unexpected {found!r}", token.column)


# --- runtime helpers -------------------------------------------------------------------


def _flatten(values: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if isinstance(value, list | tuple | set | frozenset):
            out.extend(v for v in value if v is not None)
        elif value is not None:
            out.append(value)
    return out


def _num(value: Any) -> Any:
    return 1 if value is True else 0 if value is False else value


def _fn_sum(*args: Any) -> Any:
    return sum(_num(v) for v in _flatten(args))


def _fn_count(*args: Any) -> int:
    return sum(1 for v in _flatten(args) if v is not False and v != "")


def _fn_min(*args: Any) -> Any:
    values = _flatten(args)
    return min(values) if values else None


def _fn_max(*args: Any) -> Any:
    values = _flatten(args)
    return max(values) if values else None


def _fn_abs(value: Any) -> Any:
    return None if value is None else abs(value)


def _fn_round(value: Any, digits: Any = 0) -> Any:
    return None if value is None else round(value, int(digits))


def _fn_if(cond: Any, then: Any, otherwise: Any = None) -> Any:
    return then if cond else otherwise


def _fn_answered(value: Any) -> bool:
    return value is not None and value != [] and value != ""


def _fn_len(value: Any) -> int:
    return 0 if value is None else len(value)


def _fn_contains(collection: Any, value: Any) -> bool:
    return collection is not None and value in collection


def _fn_any_in(collection: Any, values: Any) -> bool:
    if collection is None or values is None:
        return False
    for v in values:  # noqa: SIM110 (any() over a generator, without the generator's cost)
        if v in collection:
            return True
    return False


def _fn_coalesce(*args: Any) -> Any:
    return next((a for a in args if a is not None), None)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "sum": _fn_sum,
    "count": _fn_count,
    "min": _fn_min,
    "max": _fn_max,
    "abs": _fn_abs,
    "round": _fn_round,
    "if": _fn_if,
    "answered": _fn_answered,
    "len": _fn_len,
    "contains": _fn_contains,
    "any_in": _fn_any_in,
    "coalesce": _fn_coalesce,
}


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "==":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if op in ("in", "not in"):
        found = right is not None and left in right
        return found if op == "in" else not found
    if left is None or right is None:
        return False
    try:
        if op == "<":
            return bool(left < right)
        if op == "<=":
            return bool(left <= right)
        if op == ">":
            return bool(left > right)
        return bool(left >= right)
    except TypeError:
        return False


def _arith(op: str, left: Any, right: Any) -> Any:
    if left is None or right is None:
        return None
    left, right = _num(left), _num(right)
    try:
        if op == "+":
            return left + right
        if op == "-":
            return left - right
        if op == "*":
            return left * right
        return None if right == 0 else left / right
    except TypeError:
        return None


# --- compiler --------------------------------------------------------------------------

_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


def _compare_number(op: str, a: Compiled, const: float) -> Compiled:
    """`a OP const` for a numeric literal: plain numbers compare directly (same result)."""
    cmp = _ORDER[op]

    def compare(v: Mapping[str, Any], f: Mapping[str, Any]) -> bool:
        x = a(v, f)
        if type(x) is int or type(x) is float:
            return cmp(x, const)
        return _compare(op, x, const)

    return compare



_BOOL_CALLS = frozenset({"answered", "contains", "any_in"})


def _is_bool(node: Node) -> bool:
    """Whether a node always evaluates to True or False (never another value)."""
    kind = node[0]
    return (kind in ("cmp", "not", "and", "or") or (kind == "lit" and type(node[1]) is bool)
            or (kind == "call" and node[1] in _BOOL_CALLS))


def _simplify(node: Node) -> Node:
    """The same expression with literal truth values folded out of `and`/`or`, for compiling
    only (the AST kept on the Expression, its JSON and its references are unchanged).

    `X and true` and `X or false` are X when X is True or False already; `false and X` is false
    and `true or X` is true without evaluating X, as the short-circuit did."""
    kind = node[0]
    if kind not in ("and", "or", "not"):
        return node
    if kind == "not":
        return ("not", _simplify(node[1]))
    left, right = _simplify(node[1]), _simplify(node[2])
    keep_on = kind == "and"  # the literal that leaves the other side deciding
    if left[0] == "lit":
        if bool(left[1]) is not keep_on:
            return ("lit", not keep_on)
        if _is_bool(right):
            return right
    if right[0] == "lit" and bool(right[1]) is keep_on and _is_bool(left):
        return left
    return (kind, left, right)


def _cannot_raise(node: Node) -> bool:
    """Whether evaluating a node can never raise on checked answer values: literals, item
    references, `.`, not/and/or, ==/!= and answered() of such nodes (facts, which hold anything
    a caller passes, and everything else are left out)."""
    kind = node[0]
    if kind in ("lit", "self"):
        return True
    if kind == "ref":
        return _is_plain_ref(node)
    if kind in ("not", "and", "or"):
        return all(_cannot_raise(n) for n in node[1:])
    if kind == "cmp":
        return node[1] in ("==", "!=") and _cannot_raise(node[2]) and _cannot_raise(node[3])
    if kind == "call":
        return node[1] == "answered" and all(_cannot_raise(n) for n in node[2:])
    if kind == "list":
        return all(_cannot_raise(n) for n in node[1:])
    return False


def _has_self(node: Node) -> bool:
    return node[0] == "self" or any(isinstance(n, tuple) and _has_self(n) for n in node[1:])


def or_guard(expression: Expression) -> tuple[Node, Compiled, frozenset[str]] | None:
    """For a condition `G or X` whose G reads no `.` and cannot raise: G (as compiled), its
    compiled closure and the names it reads. When G holds, the condition holds whatever X is;
    items sharing one G can then be settled together (scoring/answers.py skip logic)."""
    node = _simplify(expression.ast)
    if node[0] != "or":
        return None
    guard = node[1]
    if _has_self(guard) or not _cannot_raise(guard):
        return None
    refs: set[str] = set()
    _references(guard, refs)
    return guard, _compile_node(guard, None), frozenset(refs)


def _is_plain_ref(node: Node) -> bool:
    return node[0] == "ref" and not node[1].startswith("facts.")


def _compile(node: Node, self_name: str | None) -> Compiled:
    return _compile_node(_simplify(node), self_name)


def _compile_node(node: Node, self_name: str | None) -> Compiled:
    kind = node[0]
    if kind == "lit":
        value = node[1]
        return lambda v, f: value
    if kind == "ref":
        name: str = node[1]
        if name.startswith("facts."):
            key = name[6:]
            return lambda v, f: f.get(key)
        return lambda v, f: v.get(name)
    if kind == "self":
        own = self_name or ""
        return lambda v, f: v.get(own)
    if kind == "and":
        a, b = _compile_node(node[1], self_name), _compile_node(node[2], self_name)
        if _is_bool(node[1]) and _is_bool(node[2]):  # already True or False: no bool() needed
            return lambda v, f: a(v, f) and b(v, f)
        return lambda v, f: bool(a(v, f)) and bool(b(v, f))
    if kind == "or":
        a, b = _compile_node(node[1], self_name), _compile_node(node[2], self_name)
        if _is_bool(node[1]) and _is_bool(node[2]):
            return lambda v, f: a(v, f) or b(v, f)
        return lambda v, f: bool(a(v, f)) or bool(b(v, f))
    if kind == "not":
        inner = node[1]
        if inner[0] == "cmp" and inner[1] == "==" and _is_plain_ref(inner[2]) \
                and inner[3][0] == "lit":  # `not (A == x)`, as one step
            ref, const = inner[2][1], inner[3][1]
            return lambda v, f: not (v.get(ref) == const)  # noqa: SIM201 (exactly `not ==`)
        a = _compile_node(inner, self_name)
        return lambda v, f: not a(v, f)
    if kind == "neg":
        a = _compile_node(node[1], self_name)
        return lambda v, f: _arith("-", 0, a(v, f))
    if kind == "cmp":
        op = node[1]
        a, b = _compile_node(node[2], self_name), _compile_node(node[3], self_name)
        right = node[3]
        if right[0] == "lit" and op in _ORDER and type(right[1]) in (int, float):
            # `x >= 2` and friends: compare plain numbers directly, anything else as before
            return _compare_number(op, a, right[1])
        if op == "==":
            if right[0] == "lit":
                const = right[1]
                if node[2][0] == "ref" and not node[2][1].startswith("facts."):
                    ref_name: str = node[2][1]
                    return lambda v, f: bool(v.get(ref_name) == const)
                return lambda v, f: bool(a(v, f) == const)
            return lambda v, f: bool(a(v, f) == b(v, f))
        if op == "!=" and right[0] == "lit" and _is_plain_ref(node[2]):
            ne_name: str = node[2][1]
            ne_const = right[1]
            return lambda v, f: bool(v.get(ne_name) != ne_const)
        return lambda v, f: _compare(op, a(v, f), b(v, f))
    if kind == "arith":
        op = node[1]
        a, b = _compile_node(node[2], self_name), _compile_node(node[3], self_name)
        return lambda v, f: _arith(op, a(v, f), b(v, f))
    if kind == "list":
        if all(n[0] == "lit" for n in node[1:]):
            constant = tuple(n[1] for n in node[1:])
            return lambda v, f: constant
        parts = [_compile_node(n, self_name) for n in node[1:]]
        return lambda v, f: [p(v, f) for p in parts]
    if kind == "call":
        fn = FUNCTIONS[node[1]]
        args = [_compile_node(n, self_name) for n in node[2:]]
        plain_refs = all(n[0] == "ref" and not n[1].startswith("facts.") for n in node[2:])
        if fn in (_fn_sum, _fn_max) and plain_refs and node[2:]:
            names = tuple(n[1] for n in node[2:])
            slow = fn

            plain: Callable[[list[Any]], Any] = sum if slow is _fn_sum else max

            def fast(v: Mapping[str, Any], f: Mapping[str, Any]) -> Any:
                got = [v.get(n) for n in names]
                for x in got:
                    if type(x) is not int:
                        return slow(*got)
                return plain(got)  # whole numbers only: what sum()/max() of the language give

            return fast
        if len(args) == 1:
            arg = node[2]
            if _is_plain_ref(arg) or arg[0] == "self":  # `answered(.)`, `len(A.4.1)`
                got: str = arg[1] if arg[0] == "ref" else (self_name or "")
                return lambda v, f: fn(v.get(got))
            a0 = args[0]
            return lambda v, f: fn(a0(v, f))
        if len(args) == 2 and _is_plain_ref(node[2]) and (node[3][0] == "lit" or (
                node[3][0] == "list" and all(n[0] == "lit" for n in node[3][1:]))):
            # `any_in(A.4.1, ['F00-F03', 'F04-F99'])`: the list is a constant
            first: str = node[2][1]
            second = node[3][1] if node[3][0] == "lit" else tuple(n[1] for n in node[3][1:])
            return lambda v, f: fn(v.get(first), second)
        if len(args) == 2:
            a0, a1 = args
            return lambda v, f: fn(a0(v, f), a1(v, f))
        return lambda v, f: fn(*[a(v, f) for a in args])
    raise ValueError(f"unknown node {kind}")  # pragma: no cover


def _references(node: Node, out: set[str]) -> None:
    if node[0] == "ref":
        out.add(node[1])
    for child in node[1:]:
        if isinstance(child, tuple):
            _references(child, out)


def _to_json(node: Node) -> Any:
    kind = node[0]
    if kind == "lit":
        return node[1] if not isinstance(node[1], list) else ["list", *node[1]]
    if kind == "ref":
        return {"ref": node[1]}
    if kind == "self":
        return {"self": True}
    if kind in ("cmp", "arith", "call"):
        return [node[1], *(_to_json(n) for n in node[2:])]
    return [kind, *(_to_json(n) for n in node[1:])]


@dataclass(frozen=True)
class Expression:
    """A parsed expression: source text, AST, referenced names and a compiled evaluator."""

    source: str
    ast: Node
    references: frozenset[str]
    self_name: str | None = None
    _fn: Compiled = field(repr=False, compare=False, default=lambda v, f: None)

    @property
    def compiled(self) -> Compiled:
        """The compiled closure `(values, facts) -> value`; facts must be a mapping."""
        return self._fn

    def evaluate(self, values: Mapping[str, Any], facts: Mapping[str, Any] | None = None) -> Any:
        """Evaluate against item values (and facts); unknown names are null."""
        return self._fn(values, facts or {})

    def to_json(self) -> Any:
        """Return the AST as plain JSON (lists, dicts, literals) for a browser to evaluate."""
        return _to_json(self.ast)


def parse_expression(text: str, *, self_name: str | None = None) -> Expression:
    """Parse and compile an expression once; raise ExpressionError with the column."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("empty expression", 1)
    ast = _Parser(text).parse()
    refs: set[str] = set()
    _references(ast, refs)
    return Expression(text, ast, frozenset(refs), self_name, _compile(ast, self_name))


def is_truthy(value: Any) -> bool:
    """Truth of an expression result: null, false, 0, empty are false."""
    return bool(value) and not (isinstance(value, float) and math.isnan(value))

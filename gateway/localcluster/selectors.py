"""Label and field selectors, parsed and matched the way kube-apiserver does it.

Three entry points, each returning an immutable selector with a ``matches`` method:

- :func:`parse_label_selector` reads the ``labelSelector`` query parameter
  (``a=b,c!=d,e in (x,y),f notin (z),g,!h,n>3``); the empty string selects everything.
- :func:`selector_from_dict` reads a structured ``metav1.LabelSelector`` (``matchLabels`` and
  ``matchExpressions``) as Deployments and ReplicaSets carry it: ``None`` selects nothing and
  an empty selector (``{}``) selects everything, exactly like ``LabelSelectorAsSelector``.
- :func:`parse_field_selector` reads the ``fieldSelector`` query parameter
  (``metadata.name=x,status.phase!=Running``) against the field paths a resource supports.

``LabelSelector.matches`` takes a labels mapping; ``FieldSelector.matches`` takes the whole
object. Anything malformed raises a 400 BadRequest :class:`ApiError` whose message follows the
apiserver's (``unable to parse requirement: ...``, ``field label not supported: ...``).
Keys and values are validated like Kubernetes label keys (optional DNS-subdomain prefix,
63-character name) and label values.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from gateway.localcluster.errors import ApiError, bad_request


class Operator(StrEnum):
    """The requirement operators, spelled like ``k8s.io/apimachinery/pkg/selection``."""

    EQUALS = "="
    DOUBLE_EQUALS = "=="
    NOT_EQUALS = "!="
    IN = "in"
    NOT_IN = "notin"
    EXISTS = "exists"
    DOES_NOT_EXIST = "!"
    GREATER_THAN = "gt"
    LESS_THAN = "lt"


@dataclass(frozen=True)
class Requirement:
    """One term of a label selector: ``key``, an operator and its (sorted, unique) values."""

    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key, "")
        match self.operator:
            case Operator.EXISTS:
                return present
            case Operator.DOES_NOT_EXIST:
                return not present
            case Operator.IN | Operator.EQUALS | Operator.DOUBLE_EQUALS:
                return present and value in self.values
            case Operator.NOT_IN | Operator.NOT_EQUALS:
                return not present or value not in self.values
            case Operator.GREATER_THAN | Operator.LESS_THAN:
                number = _integer(value) if present else None
                if number is None:
                    return False
                bound = int(self.values[0])
                return number > bound if self.operator is Operator.GREATER_THAN else number < bound


@dataclass(frozen=True)
class LabelSelector:
    """A conjunction of requirements; ``nothing`` marks the selector that matches no object."""

    requirements: tuple[Requirement, ...] = ()
    nothing: bool = False

    def matches(self, labels: Mapping[str, str]) -> bool:
        """True when every requirement holds for ``labels`` (an object's ``metadata.labels``)."""
        return not self.nothing and all(r.matches(labels) for r in self.requirements)


@dataclass(frozen=True)
class FieldTerm:
    """One ``field=value``, ``field==value`` or ``field!=value`` term."""

    field: str
    negated: bool
    value: str


@dataclass(frozen=True)
class FieldSelector:
    """A conjunction of field terms over an object's fields (missing fields read as "")."""

    terms: tuple[FieldTerm, ...] = ()

    def matches(self, obj: Mapping[str, Any]) -> bool:
        return all((_field_text(obj, term.field) == term.value) != term.negated
                   for term in self.terms)


# -- label keys and values --------------------------------------------------------------

_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_NAME_RULE = ("must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
              "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
              "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
_SUBDOMAIN_RULE = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                   "characters, '-' or '.', and must start and end with an alphanumeric character "
                   "(e.g. 'example.com', regex used for validation is "
                   "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
_VALUE_RULE = ("a valid label must be an empty string or consist of alphanumeric characters, "
               "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
               "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
               "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")


def _key_problems(key: str) -> list[str]:
    prefix, slash, name = key.rpartition("/")
    problems = []
    if slash:
        if "/" in prefix:
            return [f"a qualified name {_NAME_RULE} with an optional DNS subdomain prefix and '/' "
                    "(e.g. 'example.com/MyName')"]
        if not prefix:
            problems.append("prefix part must be non-empty")
        elif len(prefix) > 253:
            problems.append("prefix part must be no more than 253 characters")
        elif not _SUBDOMAIN.fullmatch(prefix):
            problems.append(f"prefix part {_SUBDOMAIN_RULE}")
    if not name:
        problems.append("name part must be non-empty")
    elif len(name) > 63:
        problems.append("name part must be no more than 63 characters")
    elif not _NAME.fullmatch(name):
        problems.append(f"name part {_NAME_RULE}")
    return problems


def _value_problems(value: str) -> list[str]:
    problems = []
    if len(value) > 63:
        problems.append("must be no more than 63 characters")
    if not _VALUE.fullmatch(value):
        problems.append(_VALUE_RULE)
    return problems


def _requirement(key: str, operator: Operator, values: Collection[str]) -> Requirement:
    """Validate like ``labels.NewRequirement``; the message lists every problem found."""
    problems = [f'Invalid value: "{key}": {"; ".join(found)}'
                for found in [_key_problems(key)] if found]
    if operator in (Operator.IN, Operator.NOT_IN) and not values:
        problems.append("for 'in', 'notin' operators, values set can't be empty")
    if operator in (Operator.EQUALS, Operator.DOUBLE_EQUALS, Operator.NOT_EQUALS) and \
            len(values) != 1:
        problems.append("exact-match compatibility requires one single value")
    if operator in (Operator.EXISTS, Operator.DOES_NOT_EXIST) and values:
        problems.append("values set must be empty for exists and does not exist")
    if operator in (Operator.GREATER_THAN, Operator.LESS_THAN):
        if len(values) != 1:
            problems.append("for 'Gt', 'Lt' operators, exactly one value is required")
        problems += [f'Invalid value: "{value}": for \'Gt\', \'Lt\' operators, the value must be '
                     "an integer" for value in values if _integer(value) is None]
    problems += [f'Invalid value: "{value}": {"; ".join(found)}'
                 for value in values for found in [_value_problems(value)] if found]
    if problems:
        raise bad_request(problems[0] if len(problems) == 1 else f"[{', '.join(problems)}]")
    return Requirement(key, operator, tuple(sorted(set(values))))


def _integer(text: str) -> int | None:
    return int(text) if re.fullmatch(r"[+-]?[0-9]+", text) else None


# -- the query-string syntax --------------------------------------------------------------

_SYMBOLS = "=!(),<>"
_TWO_CHAR = ("!=", "==")
_KEYWORDS = {"in": Operator.IN, "notin": Operator.NOT_IN}
_BINARY = {"=": Operator.EQUALS, "==": Operator.DOUBLE_EQUALS, "!=": Operator.NOT_EQUALS,
           ">": Operator.GREATER_THAN, "<": Operator.LESS_THAN, **_KEYWORDS}
_END = ""  # the token after the last one


@dataclass(frozen=True)
class _Token:
    text: str
    identifier: bool  # a word (key, value or keyword) rather than a symbol


def _tokens(text: str) -> list[_Token]:
    tokens, at = [], 0
    while at < len(text):
        char = text[at]
        if char.isspace():
            at += 1
        elif char in _SYMBOLS:
            width = 2 if text[at:at + 2] in _TWO_CHAR else 1
            tokens.append(_Token(text[at:at + width], identifier=False))
            at += width
        else:
            start = at
            while at < len(text) and not text[at].isspace() and text[at] not in _SYMBOLS:
                at += 1
            tokens.append(_Token(text[start:at], identifier=True))
    return tokens


class _Parser:
    """Recursive descent over the tokens; ``in``/``notin`` are operators only after a key."""

    def __init__(self, text: str) -> None:
        self._tokens = _tokens(text)
        self._at = 0

    def _peek(self) -> _Token:
        return self._tokens[self._at] if self._at < len(self._tokens) else _Token(_END, False)

    def _take(self) -> _Token:
        token = self._peek()
        self._at += 1
        return token

    def _at_boundary(self) -> bool:
        return self._peek().text in (",", _END)

    def parse(self) -> LabelSelector:
        requirements: list[Requirement] = []
        if self._peek().text == _END:
            return LabelSelector()
        while True:
            token = self._peek()
            if not token.identifier and token.text != "!":
                raise bad_request(f"found '{token.text}', expected: !, identifier, or "
                                  "'end of string'")
            try:
                requirements.append(self._requirement())
            except ApiError as error:
                raise bad_request(f"unable to parse requirement: {error.message}") from error
            separator = self._take()
            if separator.text == _END:
                return LabelSelector(tuple(sorted(requirements, key=lambda r: r.key)))
            if separator.text != ",":
                raise bad_request(f"found '{separator.text}', expected: ',' or 'end of string'")
            after = self._peek()
            if not after.identifier and after.text != "!":
                raise bad_request(f"found '{after.text}', expected: identifier after ','")

    def _requirement(self) -> Requirement:
        negated = self._peek().text == "!"
        if negated:
            self._take()
        key = self._take()
        if not key.identifier:
            raise bad_request(f"found '{key.text}', expected: identifier")
        if negated or self._at_boundary():
            return _requirement(key.text, Operator.DOES_NOT_EXIST if negated else Operator.EXISTS,
                                ())
        symbol = self._take()
        operator = _BINARY.get(symbol.text)
        if operator is None:
            raise bad_request(f"found '{symbol.text}', expected: in, notin, =, ==, !=, gt, lt")
        if operator in (Operator.IN, Operator.NOT_IN):
            return _requirement(key.text, operator, self._value_set())
        if self._at_boundary():
            return _requirement(key.text, operator, [""])
        value = self._take()
        if not value.identifier:
            raise bad_request(f"found '{value.text}', expected: identifier")
        return _requirement(key.text, operator, [value.text])

    def _value_set(self) -> set[str]:
        """``(a,b)``; an empty slot (``()``, ``(a,)``, ``(,a)``) is the empty value."""
        opening = self._take()
        if opening.text != "(":
            raise bad_request(f"found '{opening.text}', expected: '('")
        values: set[str] = set()
        expect_value = True
        while True:
            token = self._take()
            if token.identifier and expect_value:
                values.add(token.text)
                expect_value = False
            elif token.text in (",", ")"):
                if expect_value:
                    values.add("")
                if token.text == ")":
                    return values
                expect_value = True
            else:
                raise bad_request(f"found '{token.text}', expected: ',', ')' or identifier")


def parse_label_selector(text: str) -> LabelSelector:
    """The ``labelSelector`` query parameter; "" selects everything."""
    return _Parser(text).parse()


# -- the structured form ------------------------------------------------------------------

_EXPRESSION_OPERATORS = {"In": Operator.IN, "NotIn": Operator.NOT_IN,
                         "Exists": Operator.EXISTS, "DoesNotExist": Operator.DOES_NOT_EXIST}


def selector_from_dict(selector: Any) -> LabelSelector:
    """A ``metav1.LabelSelector``: None selects nothing, ``{}`` selects everything."""
    if selector is None:
        return LabelSelector(nothing=True)
    if not isinstance(selector, Mapping):
        raise bad_request("a label selector must be an object")
    match_labels = selector.get("matchLabels")
    expressions = selector.get("matchExpressions")
    match_labels = {} if match_labels is None else match_labels
    expressions = [] if expressions is None else expressions
    if not isinstance(match_labels, Mapping) or not isinstance(expressions, list):
        raise bad_request("matchLabels must be an object and matchExpressions a list")
    requirements = []
    for key, value in match_labels.items():
        if not isinstance(value, str):
            raise bad_request(f'matchLabels["{key}"] must be a string')
        requirements.append(_requirement(key, Operator.EQUALS, [value]))
    for expression in expressions:
        if not isinstance(expression, Mapping):
            raise bad_request("a matchExpressions entry must be an object")
        operator = _EXPRESSION_OPERATORS.get(str(expression.get("operator")))
        if operator is None:
            raise bad_request(f'"{expression.get("operator")}" is not a valid label selector '
                              "operator")
        values = expression.get("values") or []
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise bad_request("matchExpressions values must be a list of strings")
        requirements.append(_requirement(str(expression.get("key", "")), operator, values))
    return LabelSelector(tuple(sorted(requirements, key=lambda r: r.key)))


# -- field selectors ----------------------------------------------------------------------

_FIELD_OPERATORS = ("!=", "==", "=")  # the first one found at a position wins
_ESCAPABLE = "\\,="


def _split_unescaped(text: str, separator: str) -> list[str]:
    parts, current, escaped = [], [], False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            current.append(char)
            escaped = True
        elif char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _split_term(term: str) -> tuple[str, str, str] | None:
    for at in range(len(term)):
        for operator in _FIELD_OPERATORS:
            if term.startswith(operator, at):
                return term[:at], operator, term[at + len(operator):]
    return None


def _unescape(value: str) -> str:
    result, chars = [], iter(value)
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            if not following or following not in _ESCAPABLE:
                raise bad_request(f"invalid field selector: invalid escape sequence: \\{following}")
            result.append(following)
        elif char in ",=":
            raise bad_request(f"invalid field selector: unescaped character: {char}")
        else:
            result.append(char)
    return "".join(result)


def parse_field_selector(text: str, supported: Collection[str]) -> FieldSelector:
    """The ``fieldSelector`` query parameter, allowing only the resource's ``supported`` fields."""
    terms = []
    for part in _split_unescaped(text, ","):
        if not part:
            continue
        split = _split_term(part)
        if split is None:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        field, operator, value = split
        if field not in supported:
            raise bad_request(f"field label not supported: {field}")
        terms.append(FieldTerm(field, operator == "!=", _unescape(value)))
    return FieldSelector(tuple(terms))


def _field_text(obj: Mapping[str, Any], path: str) -> str:
    """The field's value as the apiserver's field sets spell it: missing is "", bools lower."""
    value: Any = obj
    for name in path.split("."):
        value = value.get(name) if isinstance(value, Mapping) else None
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

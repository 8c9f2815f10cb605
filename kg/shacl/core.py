"""SHACL Core constraints of the fast engine, evaluated over an `Index` of the data.

`Validator` checks one focus node against one compiled shape (value nodes, property shapes,
the logical and shape-based components), with pySHACL's conventions for the results it
reports. `make_check` turns a constraint on single value nodes into one closure, which the
compiler stores on the shape: the per-value loop of every export runs through it. Literal
values follow XSD semantics (`kg.shacl.xsd`). SPARQL constraints are not here
(`kg.shacl.sparql` runs them set-based).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from kg.rdf.terms import XSD_STRING, Lit, Object
from kg.shacl.model import SHACL_NS, CompiledShapes, Index, Result, Shape, UnsupportedShape
from kg.shacl.xsd import compare, well_formed

_NONE: list[Object] = []  # no values (never mutated)
_QUALIFIED_MIN = SHACL_NS + "QualifiedMinCountConstraintComponent"
_QUALIFIED_MAX = SHACL_NS + "QualifiedMaxCountConstraintComponent"


def _is_instance(index: Index, node: Object, cls: str) -> bool:
    return isinstance(node, str) and cls in index.classes(node)


def _lang_matches(tag: str, ranges: list[str]) -> bool:
    tag = tag.lower()
    return bool(tag) and any(r == "*" or tag == r or tag.startswith(r + "-") for r in ranges)


def _is_blank(value: Object) -> bool:
    return isinstance(value, str) and value.startswith("_:")


def _node_kind_ok(value: Object, kind: str) -> bool:
    name = kind.rsplit("#", 1)[1]
    is_blank = _is_blank(value)
    is_iri = isinstance(value, str) and not is_blank
    is_literal = not isinstance(value, str)
    return {
        "IRI": is_iri,
        "Literal": is_literal,
        "BlankNode": is_blank,
        "BlankNodeOrIRI": not is_literal,
        "IRIOrLiteral": not is_blank,
        "BlankNodeOrLiteral": not is_iri,
    }[name]


def _text(value: Object) -> str:
    return value if isinstance(value, str) else value.lexical


def _compare(value: Object, bound: Object) -> int | None:
    if not isinstance(value, Lit) or not isinstance(bound, Lit):
        return None
    return compare(value, bound)


class Validator:
    """Evaluates compiled shapes over an index; results use pySHACL's conventions."""

    def __init__(self, compiled: CompiledShapes) -> None:
        self.compiled = compiled

    def conforms(self, shape: Shape, focus: Object, index: Index) -> bool:
        return self._evaluate(shape, focus, index, None)

    def validate_focus(self, shape: Shape, focus: Object, index: Index) -> list[Result]:
        out: list[Result] = []
        self._evaluate(shape, focus, index, out)
        return out

    # long: the hot path of every export (each focus node and value passes here), kept whole
    def _evaluate(self, shape: Shape, focus: Object, index: Index, out: list[Result] | None) -> bool:
        """True when `focus` conforms; with `out`, collect every result instead of stopping."""
        if shape.deactivated:
            return True
        if shape.path is None:
            values: list[Object] = [focus]
        else:
            props = index.props.get(focus) if isinstance(focus, str) else None
            values = props.get(shape.path, _NONE) if props else _NONE
        ok = True
        for (name, param, component), check in zip(shape.constraints, shape.checks, strict=True):
            if check is not None:  # the common case: each value node on its own
                bad = [v for v in values if not check(v, index)]
                if bad:
                    if out is None:
                        return False
                    ok = False
                    for v in bad:
                        out.append(
                            Result(focus, shape.path, v, component, shape.iri, shape.severity, shape.message)
                        )
                continue
            if name == "maxCount" and len(values) <= param:  # the next most common, inline
                continue
            if name == "minCount" and len(values) >= param:
                continue
            if name == "closed":
                extra = [
                    (p, o)
                    for v in values
                    for p, objects in sorted((index.get(v) or {}).items())
                    if p not in param
                    for o in objects
                ]
                if extra:
                    if out is None:
                        return False
                    ok = False
                    for p, o in extra:
                        out.append(Result(focus, p, o, component, shape.iri, shape.severity, shape.message))
                continue
            failures = self._failures(name, param, focus, values, index)
            if failures:
                if out is None:
                    return False
                ok = False
                for comp, value in failures:
                    out.append(
                        Result(
                            focus,
                            shape.path,
                            value,
                            comp or component,
                            shape.iri,
                            shape.severity,
                            shape.message,
                        )
                    )
        for prop in shape.properties:
            for value in values:
                if not self._evaluate(prop, value, index, out):
                    if out is None:
                        return False
                    ok = False
        # sh:sparql constraints of targeted shapes are evaluated set-based by `run_sparql_constraints`.
        return ok

    def _failures(
        self, name: str, param: Any, focus: Object, values: list[Object], index: Index
    ) -> list[tuple[str | None, Object | None]]:
        """(component when not the constraint's own, failing value or None) of each result."""
        if name == "minCount":
            return [(None, None)] if len(values) < param else []
        if name == "maxCount":
            return [(None, None)] if len(values) > param else []
        if name == "hasValue":
            return [] if param in values else [(None, None)]
        if name == "uniqueLang":
            seen: dict[str, int] = defaultdict(int)
            for v in values:
                if isinstance(v, Lit) and v.language:
                    seen[v.language.lower()] += 1
            return [(None, None) for tag, n in sorted(seen.items()) if n > 1]
        if name == "qualifiedValueShape":
            qshape, low, high, siblings = param
            count = sum(
                1
                for v in values
                if self.conforms(qshape, v, index) and not any(self.conforms(s, v, index) for s in siblings)
            )
            out: list[tuple[str | None, Object | None]] = []
            if low is not None and count < low:
                out.append((_QUALIFIED_MIN, None))
            if high is not None and count > high:
                out.append((_QUALIFIED_MAX, None))
            return out
        if name in ("equals", "disjoint", "lessThan", "lessThanOrEquals"):
            others = index.values(focus, param)
            found: list[tuple[str | None, Object | None]] = []
            if name == "equals":
                found += [(None, v) for v in values if v not in others]
                return found + [(None, o) for o in others if o not in values]
            if name == "disjoint":
                return found + [(None, v) for v in values if v in others]
            for v in values:
                for o in others:
                    cmp = _compare(v, o)
                    if cmp is None or cmp > 0 or (cmp == 0 and name == "lessThan"):
                        found.append((None, v))
            return found
        return [(None, v) for v in values if not self._value_ok(name, param, v, index)]

    def _value_ok(self, name: str, param: Any, value: Object, index: Index) -> bool:
        if name == "class":
            return _is_instance(index, value, param)
        if name == "datatype":
            if not isinstance(value, Lit) or value.datatype != param:
                return False
            return well_formed(value.lexical, value.datatype, value.language)
        if name == "nodeKind":
            return _node_kind_ok(value, param)
        if name == "pattern":
            return not _is_blank(value) and param.search(_text(value)) is not None
        if name == "minLength":
            return not _is_blank(value) and len(_text(value)) >= int(param)
        if name == "maxLength":
            return not _is_blank(value) and len(_text(value)) <= int(param)
        if name == "languageIn":
            return isinstance(value, Lit) and _lang_matches(value.language, param)
        if name == "in":
            return bool(value in param)
        if name in ("minExclusive", "minInclusive", "maxExclusive", "maxInclusive"):
            cmp = _compare(value, param)
            if cmp is None:
                return False
            return {
                "minExclusive": cmp > 0,
                "minInclusive": cmp >= 0,
                "maxExclusive": cmp < 0,
                "maxInclusive": cmp <= 0,
            }[name]
        if name == "or":
            return any(self.conforms(s, value, index) for s in param)
        if name == "and":
            return all(self.conforms(s, value, index) for s in param)
        if name == "xone":
            return sum(1 for s in param if self.conforms(s, value, index)) == 1
        if name == "not":
            return not self.conforms(param, value, index)
        if name == "node":
            return self.conforms(param, value, index)
        raise UnsupportedShape(name)


_V = Validator(CompiledShapes([], frozenset()))  # the value checks' recursion into shapes

_KINDS = {
    "IRI": "I",
    "Literal": "L",
    "BlankNode": "B",
    "BlankNodeOrIRI": "BI",
    "IRIOrLiteral": "IL",
    "BlankNodeOrLiteral": "BL",
}


def make_check(name: str, param: Any) -> Callable[[Object, Index], bool] | None:
    """The value-node test of a constraint, as one closure (what `Validator._value_ok` does,
    without its dispatch on the name for each value); None for constraints on all values."""
    if name == "class":
        return lambda v, ix: isinstance(v, str) and param in ix.classes(v)
    if name == "datatype":
        if param == XSD_STRING:
            return lambda v, ix: isinstance(v, Lit) and v.datatype == XSD_STRING and not v.language
        return lambda v, ix: (
            isinstance(v, Lit) and v.datatype == param and well_formed(v.lexical, v.datatype, v.language)
        )
    if name == "nodeKind":
        allowed = _KINDS[param.rsplit("#", 1)[1]]
        return lambda v, ix: (
            ("L" if not isinstance(v, str) else "B" if v.startswith("_:") else "I") in allowed
        )
    if name == "pattern":
        search = param.search
        return lambda v, ix: (
            search(v.lexical) is not None
            if isinstance(v, Lit)
            else not v.startswith("_:") and search(v) is not None
        )
    if name in ("minLength", "maxLength"):
        low = param if name == "minLength" else 0
        high = param if name == "maxLength" else None

        def length_ok(v: Object, ix: Index) -> bool:
            if isinstance(v, str) and v.startswith("_:"):
                return False
            n = len(v if isinstance(v, str) else v.lexical)
            return n >= low and (high is None or n <= high)

        return length_ok
    if name == "in":
        members = frozenset(param)
        return lambda v, ix: v in members
    if name in ("languageIn", "minExclusive", "minInclusive", "maxExclusive", "maxInclusive"):
        return lambda v, ix: _V._value_ok(name, param, v, ix)
    if name == "or":
        return lambda v, ix: any(_V._evaluate(s, v, ix, None) for s in param)
    if name == "not":
        return lambda v, ix: not _V._evaluate(param, v, ix, None)
    if name == "node":
        return lambda v, ix: _V._evaluate(param, v, ix, None)
    if name in ("and", "xone"):
        return lambda v, ix: _V._value_ok(name, param, v, ix)
    return None

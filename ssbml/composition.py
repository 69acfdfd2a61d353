"""Parse literature formulas into pymatgen compositions, one at a time or in batches.

Real solid-electrolyte data sets write formulas in many ways: fractional doping
(``Li6.4La3Zr1.4Ta0.6O12``), nested parentheses and brackets, hydrates
(``LiBH4*H2O``, ``LiBH4·H2O``, ``(H2O)18``), glass notation with group coefficients
(``(Li2S)0.75(P2S5)0.25``, ``0.75Li2S-0.25P2S5``), unicode subscripts and minus signs,
quotes and stray whitespace. :func:`parse_formula` accepts all of them and rejects,
with a :class:`CompositionError` that names the input and the reason, anything that is
empty, symbolic (``Li7-xLa3...``), has an unknown element, a non-positive amount, an
absurd stoichiometry (an element amount above :data:`MAX_AMOUNT` = 1000 per formula unit,
or a largest-to-smallest amount ratio above :data:`MAX_AMOUNT_RATIO` = 1e4), or (by
default) no Li. The bounds leave every formula of OBELiX and Liverpool far inside
(largest amount there: 297, in Li48.5La48.5Ti97Si3O297; largest ratio: 1200, in
Li1.3Sc0.01Ti1.7Al0.29P3O12); error messages show at most the first 60 characters of
an input and its length (:func:`ssbml.io.shorten`).

:func:`parse_formulas` is the batch form: it never raises for a bad row; it returns the
good compositions with their row positions plus a table of rejected rows and reasons.
:class:`ElementFractions` is the array form used by featurizers and the candidate
generator: rows are compositions, columns are elements, values are atomic fractions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import pandas as pd
from pymatgen.core import Composition, Element

from ssbml.errors import SsbmlError

__all__ = [
    "ANION_ELEMENTS",
    "ANION_FORMERS",
    "CHALCOGENS",
    "HALOGENS",
    "MAX_AMOUNT",
    "MAX_AMOUNT_RATIO",
    "MAX_FORMULA_LENGTH",
    "CompositionError",
    "ElementFractions",
    "ParsedBatch",
    "composition_key",
    "iter_parsed",
    "normalize_formula_text",
    "parse_formula",
    "parse_formulas",
]

T = TypeVar("T")

HALOGENS = ("F", "Cl", "Br", "I")
"""Halogens (halide anions)."""
CHALCOGENS = ("S", "Se", "Te")
"""Chalcogens heavier than O (sulfide, selenide, telluride anions)."""
ANION_FORMERS = frozenset({"N", "O", *CHALCOGENS, *HALOGENS})
"""Elements taken as anions (negative oxidation state) when a rule must guess: the site
a dopant goes to, the fallback valence of a structure."""
ANION_ELEMENTS = ("O", "S", "Se", "N", "F", "Cl", "Br", "I", "H")
"""Anions whose amounts the composition features sum separately, in feature order
(``anion_share_O`` ...): :data:`ANION_FORMERS` without Te, plus hydride H."""

MAX_FORMULA_LENGTH = 256
"""Longest formula text accepted, in characters (longer input is rejected, not parsed)."""
MAX_AMOUNT = 1000.0
"""Largest amount of one element per formula unit, in atoms (real data: at most 297)."""
MAX_AMOUNT_RATIO = 1e4
"""Largest ratio of the largest to the smallest element amount (real data: at most 1200)."""

_SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_TRANSLATE = str.maketrans(
    {
        "\u2212": "-",  # minus sign
        "\u2013": "-",  # en dash
        "\u2014": "-",  # em dash
        "\u2010": "-",  # hyphen
        "\u2011": "-",  # non-breaking hyphen
        "\u00b7": "*",  # middle dot
        "\u2022": "*",  # bullet
        "\u22c5": "*",  # dot operator
        "\u2219": "*",  # bullet operator
        "\u00d7": "*",  # multiplication sign
        "[": "(",
        "]": ")",
        "{": "(",
        "}": ")",
        "\ufeff": None,  # byte-order mark
        '"': None,
        "'": None,
    }
)
_ALLOWED = re.compile(r"^[A-Za-z0-9.()*+\-]*$")
_NUMBER = re.compile(r"\d+(?:\.\d*)?|\.\d+")
_LEADING_COEFF = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)(?=[A-Z(])")
_VALID_SYMBOLS = frozenset(e.symbol for e in Element)


class CompositionError(SsbmlError, ValueError):
    """A formula that cannot be turned into a composition; names the input and the reason."""

    def __init__(self, formula: object, reason: str) -> None:
        from ssbml.io import shorten

        self.formula = formula
        self.reason = reason
        super().__init__(f"cannot parse composition {shorten(formula)}: {reason}")


def normalize_formula_text(text: str) -> str:
    """Map unicode subscripts, minus signs, middle dots and brackets to ASCII; drop
    quotes and all whitespace."""
    text = text.translate(_SUBSCRIPTS).translate(_TRANSLATE)
    return "".join(text.split())


def _split_top_level(text: str, separators: str) -> list[str]:
    """Split on separator characters that are not inside parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch in separators and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _parse_group(text: str, pos: int, original: str) -> tuple[dict[str, float], int]:
    """Parse a parenthesis-free-or-nested run of element groups starting at ``pos``.

    Returns the amounts and the position after the run (at ``)`` or end of text).
    """
    amounts: dict[str, float] = {}
    n = len(text)
    while pos < n and text[pos] != ")":
        ch = text[pos]
        if ch == "(":
            inner, pos = _parse_group(text, pos + 1, original)
            if pos >= n or text[pos] != ")":
                raise CompositionError(original, "unbalanced parentheses")
            pos += 1
            if not inner:
                raise CompositionError(original, "empty parentheses")
            mult, pos = _read_amount(text, pos, original, "a parenthesised group")
            for el, amt in inner.items():
                amounts[el] = amounts.get(el, 0.0) + amt * mult
        elif ch.isupper():
            symbol = ch
            if pos + 1 < n and text[pos + 1].islower():
                symbol += text[pos + 1]
            pos += len(symbol)
            if pos < n and text[pos].islower():
                raise CompositionError(
                    original,
                    f"unknown element or symbolic token starting {text[pos - 2 : pos + 1]!r}",
                )
            if symbol not in _VALID_SYMBOLS:
                raise CompositionError(original, f"unknown element {symbol!r}")
            amt, pos = _read_amount(text, pos, original, f"element {symbol}")
            amounts[symbol] = amounts.get(symbol, 0.0) + amt
        elif ch == "-":
            raise CompositionError(
                original,
                "negative amount or '-' inside a formula (symbolic amounts such as "
                "'7-x' are not compositions)",
            )
        elif ch.islower():
            raise CompositionError(
                original, f"symbolic or lowercase token {ch!r} at position {pos}"
            )
        elif ch.isdigit() or ch == ".":
            raise CompositionError(original, f"number without an element at position {pos}")
        else:
            raise CompositionError(original, f"unexpected character {ch!r} at position {pos}")
    return amounts, pos


def _read_amount(text: str, pos: int, original: str, what: str) -> tuple[float, int]:
    """Read an optional amount after an element or group; absent means 1."""
    m = _NUMBER.match(text, pos)
    if not m:
        if pos < len(text) and text[pos] == "-":
            raise CompositionError(original, f"negative amount for {what}")
        return 1.0, pos
    value = float(m.group())
    if value <= 0:
        raise CompositionError(original, f"non-positive amount {m.group()} for {what}")
    return value, m.end()


def _parse_part(part: str, original: str) -> dict[str, float]:
    """Parse one ``*``/``+``-separated part, with an optional leading coefficient."""
    if not part:
        raise CompositionError(original, "empty part between separators")
    coeff = 1.0
    m = _LEADING_COEFF.match(part)
    if m:
        coeff = float(m.group(1))
        if coeff <= 0:
            raise CompositionError(original, f"non-positive coefficient {m.group(1)}")
        part = part[m.end() :]
    amounts, pos = _parse_group(part, 0, original)
    if pos != len(part):
        raise CompositionError(original, "unbalanced parentheses")
    return {el: amt * coeff for el, amt in amounts.items()}


def _has_leading_coefficient(part: str) -> bool:
    return bool(_LEADING_COEFF.match(part))


def parse_formula(formula: object, *, require_li: bool = True) -> Composition:
    """Parse one formula into a :class:`pymatgen.core.Composition`.

    Raises :class:`CompositionError` naming the input and the reason when the text is
    empty, too long, symbolic, has an unknown element or a non-positive amount, or has
    no Li while ``require_li`` is true. A :class:`Composition` input is validated the
    same way and returned.
    """
    if isinstance(formula, Composition):
        comp = formula
        amounts = {el.symbol: float(amt) for el, amt in comp.element_composition.items()}
    else:
        if formula is None or (isinstance(formula, float) and np.isnan(formula)):
            raise CompositionError(formula, "empty value")
        if not isinstance(formula, str):
            raise CompositionError(
                formula, f"expected a formula string, got {type(formula).__name__}"
            )
        if len(formula) > MAX_FORMULA_LENGTH:
            raise CompositionError(
                formula,
                f"formula is too long ({len(formula)} characters; at most {MAX_FORMULA_LENGTH})",
            )
        text = normalize_formula_text(formula)
        if not text:
            raise CompositionError(formula, "empty formula")
        if not _ALLOWED.match(text):
            bad = sorted({c for c in text if not re.match(r"[A-Za-z0-9.()*+\-]", c)})
            raise CompositionError(formula, f"unexpected character(s) {''.join(bad)!r}")
        if text.count("(") != text.count(")"):
            raise CompositionError(formula, "unbalanced parentheses")
        parts = _split_top_level(text, "*+")
        expanded: list[str] = []
        for part in parts:
            dash_parts = _split_top_level(part, "-")
            # '-' separates mixture components only in glass notation where every
            # component has a coefficient (0.75Li2S-0.25P2S5); otherwise it is a sign.
            if len(dash_parts) > 1 and all(p and _has_leading_coefficient(p) for p in dash_parts):
                expanded.extend(dash_parts)
            else:
                expanded.append(part)
        amounts = {}
        for part in expanded:
            for el, amt in _parse_part(part, formula).items():
                amounts[el] = amounts.get(el, 0.0) + amt
        if not amounts:
            raise CompositionError(formula, "no elements found")
        comp = Composition(amounts)
    if any(amt <= 0 for amt in amounts.values()):
        raise CompositionError(formula, "non-positive amount")
    _check_stoichiometry(formula, amounts)
    if require_li and amounts.get("Li", 0.0) <= 0:
        raise CompositionError(formula, "no Li in composition (ssbml models Li-ion conductors)")
    return comp


def _check_stoichiometry(formula: object, amounts: dict[str, float]) -> None:
    """Refuse non-finite or absurd amounts (see :data:`MAX_AMOUNT`, :data:`MAX_AMOUNT_RATIO`)."""
    el_max = max(amounts, key=amounts.__getitem__)
    el_min = min(amounts, key=amounts.__getitem__)
    hi, lo = amounts[el_max], amounts[el_min]
    if not np.isfinite(hi):
        raise CompositionError(formula, f"amount of {el_max} is not a finite number")
    if hi > MAX_AMOUNT:
        raise CompositionError(
            formula, f"amount of {el_max} is {hi:.4g} per formula unit; at most "
            f"{MAX_AMOUNT:g} is accepted (absurd stoichiometry)"
        )
    if hi / lo > MAX_AMOUNT_RATIO:
        raise CompositionError(
            formula, f"{el_max}/{el_min} amount ratio is {hi / lo:.4g}; at most "
            f"{MAX_AMOUNT_RATIO:g} is accepted (absurd stoichiometry)"
        )


def composition_key(comp: Composition, decimals: int = 4) -> str:
    """A canonical text key for matching equal compositions across data sets.

    Atomic fractions rounded to ``decimals`` places, elements in alphabetical order, so
    ``Li6PS5Cl`` and ``Li12P2S10Cl2`` share a key.
    """
    frac = comp.fractional_composition
    items = sorted((el.symbol, round(float(amt), decimals)) for el, amt in frac.items())
    return " ".join(f"{el}{amt:g}" for el, amt in items if amt > 0)


@dataclass(frozen=True)
class ParsedBatch:
    """Result of :func:`parse_formulas`.

    ``compositions[i]`` was parsed from input row ``rows[i]``; ``rejected`` has one row
    per input that failed, with columns ``row`` (position in the input), ``input`` and
    ``reason``.
    """

    compositions: list[Composition]
    rows: np.ndarray
    rejected: pd.DataFrame

    @property
    def n_input(self) -> int:
        return len(self.compositions) + len(self.rejected)


def iter_parsed(
    values: Iterable[object], parse: Callable[[object], T]
) -> Iterator[tuple[int, object, T | CompositionError]]:
    """Yield ``(row, input, parse(input))`` for every input, or the
    :class:`CompositionError` that ``parse`` raised in place of the result. Each
    distinct string is parsed once; other inputs (pymatgen Compositions, whose hashing
    is slow) are parsed every time."""
    cache: dict[str, T | CompositionError] = {}
    for i, value in enumerate(values):
        key = value if isinstance(value, str) else None
        result = cache.get(key) if key is not None else None
        if result is None:
            try:
                result = parse(value)
            except CompositionError as err:
                result = err
            if key is not None:
                cache[key] = result
        yield i, value, result


def parse_formulas(formulas: Iterable[object], *, require_li: bool = True) -> ParsedBatch:
    """Parse many formulas; bad rows are reported in ``rejected``, never raised or dropped.

    Repeated formulas are parsed once.
    """
    comps: list[Composition] = []
    rows: list[int] = []
    rejected: list[tuple[int, object, str]] = []
    for i, f, result in iter_parsed(formulas, lambda f: parse_formula(f, require_li=require_li)):
        if isinstance(result, CompositionError):
            rejected.append((i, f, result.reason))
        else:
            comps.append(result)
            rows.append(i)
    return ParsedBatch(
        compositions=comps,
        rows=np.asarray(rows, dtype=np.int64),
        rejected=pd.DataFrame(rejected, columns=["row", "input", "reason"]),
    )


@dataclass(frozen=True)
class ElementFractions:
    """Compositions as an array: ``fractions[i, j]`` is the atomic fraction of
    ``elements[j]`` in composition ``i`` (rows sum to 1).

    ``atoms_per_formula[i]`` is the number of atoms in the formula unit as written, so
    absolute amounts are ``fractions * atoms_per_formula[:, None]``.
    """

    fractions: np.ndarray
    elements: tuple[str, ...]
    atoms_per_formula: np.ndarray

    def __post_init__(self) -> None:
        f = self.fractions
        if f.ndim != 2 or f.shape[1] != len(self.elements):
            raise ValueError(
                f"fractions must be (n_compositions, {len(self.elements)}), got {f.shape}"
            )
        if self.atoms_per_formula.shape != (f.shape[0],):
            raise ValueError("atoms_per_formula must have one value per composition")
        unknown = [e for e in self.elements if e not in _VALID_SYMBOLS]
        if unknown:
            raise ValueError(f"unknown element column(s): {unknown}")

    def __len__(self) -> int:
        return self.fractions.shape[0]

    @classmethod
    def from_compositions(
        cls, compositions: Sequence[Composition], elements: Sequence[str] | None = None
    ) -> ElementFractions:
        """Build the matrix from compositions; columns are ``elements`` or, by default,
        every element present, in order of atomic number."""
        if elements is None:
            present = {el for c in compositions for el in c.element_composition}
            elements = [el.symbol for el in sorted(present, key=lambda e: e.Z)]
        col = {el: j for j, el in enumerate(elements)}
        n = len(compositions)
        amounts = np.zeros((n, len(elements)))
        for i, comp in enumerate(compositions):
            for el, amt in comp.element_composition.items():
                j = col.get(el.symbol)
                if j is None:
                    raise ValueError(f"element {el.symbol} of {comp.formula} is not a column")
                amounts[i, j] = amt
        total = amounts.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            fractions = amounts / total[:, None]
        return cls(np.nan_to_num(fractions), tuple(elements), total)

    @classmethod
    def from_amounts(cls, amounts: np.ndarray, elements: Sequence[str]) -> ElementFractions:
        """Build from absolute amounts per formula unit, shape (n, len(elements))."""
        amounts = np.asarray(amounts, dtype=float)
        if (amounts < 0).any():
            raise ValueError("amounts must be non-negative")
        total = amounts.sum(axis=1)
        if (total <= 0).any():
            raise ValueError(f"row(s) {np.flatnonzero(total <= 0)[:10].tolist()} have no atoms")
        return cls(amounts / total[:, None], tuple(elements), total)

    @classmethod
    def from_formulas(
        cls, formulas: Iterable[object], *, require_li: bool = True
    ) -> tuple[ElementFractions, ParsedBatch]:
        """Parse formulas and build the matrix for the good rows; see :func:`parse_formulas`."""
        batch = parse_formulas(formulas, require_li=require_li)
        return cls.from_compositions(batch.compositions), batch

    def amounts(self) -> np.ndarray:
        """Absolute amounts per formula unit, shape (n, n_elements)."""
        return self.fractions * self.atoms_per_formula[:, None]

    def fraction_of(self, element: str) -> np.ndarray:
        """Atomic fraction of one element in every composition (0 where absent)."""
        if element in self.elements:
            return self.fractions[:, self.elements.index(element)]
        return np.zeros(len(self))

    def take(self, rows: np.ndarray | slice) -> ElementFractions:
        """A subset of rows."""
        return ElementFractions(self.fractions[rows], self.elements, self.atoms_per_formula[rows])

    def to_formulas(self, decimals: int = 4) -> list[str]:
        """Formula strings of the absolute amounts, elements in column order."""
        return self.formula_array(decimals).to_pylist()

    def formula_array(self, decimals: int = 4):
        """Formula strings as a pyarrow string array (fast path for millions of rows:
        each column's distinct amounts are formatted once, the rest runs in Arrow)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        amounts = np.round(self.amounts(), decimals)
        columns = []
        for j, el in enumerate(self.elements):
            # hash-factorize the column's distinct amounts; code 0 is "absent"
            codes, values = pd.factorize(amounts[:, j])
            text = pa.array(
                [""] + ["" if v <= 0 else el if v == 1 else f"{el}{v:g}" for v in values],
                pa.string(),
            )
            columns.append(pc.take(text, pa.array((codes + 1).astype(np.int32))))
        if not columns:
            return pa.array([""] * len(self), pa.string())
        return pc.binary_join_element_wise(*columns, "")

"""Run a screening end to end: candidates in chunks -> predictions -> ranking -> files.

Chunks run in this process, in local worker processes, or on a Dask distributed
cluster (``scheduler="tcp://host:port"``). Every finished chunk is written atomically,
so a killed run started again with the same parameters resumes where it stopped and
ends with every candidate exactly once (see :mod:`ssbml.screening.chunks`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ssbml.composition import ElementFractions
from ssbml.errors import SsbmlError
from ssbml.io import atomic_write_csv, atomic_write_parquet, atomic_write_text, shorten
from ssbml.screening.candidates import Candidates, generate_doped
from ssbml.screening.chunks import ChunkStore
from ssbml.screening.rank import RankingCriteria, rank_candidates

__all__ = [
    "ScreenResult",
    "ScreenSpec",
    "build_candidates",
    "read_candidate_file",
    "screen",
    "screen_candidates",
]


class CandidateFileError(SsbmlError, ValueError):
    """A candidate list that cannot be screened at all (missing, empty, no column)."""


@dataclass(frozen=True)
class ScreenSpec:
    """What to screen. Either ``parent`` + ``dopants`` (doped variants on a grid of
    dopant atoms per formula unit, see :func:`~ssbml.screening.candidates.generate_doped`
    for ``amounts``, ``dopant_amounts``, the legacy site ``fractions`` and the candidate
    rules ``min_li``, ``min_li_fraction``, ``max_site_fraction``, ``solubility_cap``) or
    ``input_file`` (CSV or Parquet with a ``composition`` column)."""

    parent: str | None = None
    dopants: tuple[str, ...] = ()
    fractions: tuple[float, ...] | None = None
    sites: Mapping[str, str] = field(default_factory=dict)
    max_dopants: int = 2
    input_file: str | None = None
    temperature_K: float | None = None
    alpha: float = 0.1
    chunk_size: int = 50_000
    exact_stability: bool = True
    electrodes: tuple[str, ...] = ("Li", "LiCoO2")
    exclude_phases: tuple[str, ...] = ()
    amounts: tuple[float, ...] | None = None
    dopant_amounts: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    min_li: float | None = None
    min_li_fraction: float | None = None
    max_site_fraction: float | None = None
    solubility_cap: float | None = None
    parent_structure: str | None = None

    def __post_init__(self) -> None:
        if self.parent is not None and self.parent_structure is not None:
            raise ValueError("give --parent (a composition) or --parent-structure (a CIF), "
                             "not both: the structure defines the parent")
        given = [x is not None for x in (self.parent, self.input_file, self.parent_structure)]
        if sum(given) != 1:
            raise ValueError("give either a parent composition with dopants, a parent "
                             "structure with dopants or an input file")
        if (self.parent is not None or self.parent_structure is not None) and not self.dopants:
            raise ValueError("a parent needs at least one dopant")
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {self.alpha}")
        if self.chunk_size < 1:
            raise ValueError("chunk_size must be >= 1")
        if self.temperature_K is not None and not 150 <= self.temperature_K <= 1500:
            raise ValueError(
                f"temperature_K must be within 150 to 1500 K, got {self.temperature_K}"
            )

    @cached_property
    def parent_structure_info(self):
        """The loaded :class:`~ssbml.screening.parent_structure.ParentStructure` (once)."""
        if self.parent_structure is None:
            return None
        from ssbml.screening.parent_structure import load_parent_structure

        return load_parent_structure(self.parent_structure)

    @cached_property
    def _input_sha256(self) -> str | None:
        """sha256 of ``input_file``, read once per spec (None without an input file)."""
        if self.input_file is None:
            return None
        from ssbml.data.registry import file_sha256

        return file_sha256(Path(self.input_file))

    def as_dict(self) -> dict[str, Any]:
        """The spec as JSON-ready values, with the input file's sha256 if there is one."""
        d = asdict(self)
        d["sites"] = dict(self.sites)
        d["dopant_amounts"] = {k: list(v) for k, v in self.dopant_amounts.items()}
        if self.input_file is not None:
            d["input_sha256"] = self._input_sha256
        if self.parent_structure is not None:
            d["parent_structure_info"] = self.parent_structure_info.as_dict()
        return d


@dataclass
class ScreenResult:
    """The ranked table, the rows that were rejected before prediction, and where the
    files are."""

    table: pd.DataFrame
    rejected: pd.DataFrame
    out_dir: Path
    n_chunks: int
    seconds: float
    run_id: str | None = None
    rejected_candidates: pd.DataFrame | None = None
    doping_plan: str = ""  # where each dopant went and why (doping_plan_text)
    parent_migration: dict | None = None  # BVSE of a parent structure (parent_migration)


def read_candidate_file(path: str | Path) -> tuple[Candidates, pd.DataFrame]:
    """Candidates from a CSV or Parquet file with a ``composition`` column; returns the
    good rows and a table of rejected rows (row number in the file, input, reason)."""
    path = Path(path)
    if not path.is_file():
        raise CandidateFileError(f"candidate file {path} does not exist")
    if path.stat().st_size == 0:
        raise CandidateFileError(f"candidate file {path} is empty")
    if path.suffix.lower() in (".parquet", ".pq"):
        df = pd.read_parquet(path)
    else:
        try:
            df = pd.read_csv(path, encoding="utf-8-sig")
        except pd.errors.EmptyDataError:
            raise CandidateFileError(f"candidate file {path} is empty") from None
    if "composition" not in df.columns:
        raise CandidateFileError(
            f"candidate file {path} has no 'composition' column (columns: "
            f"{shorten(', '.join(map(str, df.columns)))})"
        )
    if df.empty:
        raise CandidateFileError(f"candidate file {path} has a header but no rows")
    ef, batch = ElementFractions.from_formulas(df["composition"].tolist())
    ef = _conventional_order(ef)
    rejected = batch.rejected.assign(field="composition")
    if not batch.compositions:
        raise CandidateFileError(
            f"no usable composition in {path}: all {len(df)} rows were rejected "
            f"(first: row {rejected.iloc[0]['row']}, {rejected.iloc[0]['reason']})"
        )
    labels = pd.DataFrame(
        {
            "candidate_id": batch.rows.astype(np.int64),
            "parent": "",
            "doping": "",
            "li_per_formula": ef.amounts()[:, ef.elements.index("Li")],
            "input": df["composition"].iloc[batch.rows].astype(str).to_numpy(),
        }
    )
    return Candidates(ef, labels), rejected


def _conventional_order(ef: ElementFractions) -> ElementFractions:
    """Columns by Pauling electronegativity (as pymatgen writes formulas), so formula
    strings read LiBH4 and Li0.33La0.56TiO3 rather than H4LiB and Li0.33O3TiLa0.56."""
    from pymatgen.core import Element

    def key(symbol: str) -> tuple[float, int]:
        el = Element(symbol)
        x = el.X
        return (x if x == x else 10.0, el.Z)  # NaN electronegativity (noble gases) last

    order = sorted(range(len(ef.elements)), key=lambda j: key(ef.elements[j]))
    return ElementFractions(
        ef.fractions[:, order], tuple(ef.elements[j] for j in order), ef.atoms_per_formula
    )


def build_candidates(spec: ScreenSpec) -> tuple[Candidates, pd.DataFrame]:
    """The candidates a spec describes, and the rows rejected on the way."""
    if spec.input_file is not None:
        return read_candidate_file(spec.input_file)
    parent: Any = spec.parent
    guests = None
    if spec.parent_structure is not None:
        from pymatgen.core import Composition

        from ssbml.screening.parent_structure import structure_guests

        parent = Composition(spec.parent_structure_info.formula_unit)
        guests = structure_guests(spec.parent_structure_info)
    cands = generate_doped(
        parent,
        spec.dopants,
        fractions=spec.fractions,
        amounts=spec.amounts,
        dopant_amounts=spec.dopant_amounts,
        sites=spec.sites,
        max_dopants=spec.max_dopants,
        min_li=spec.min_li,
        min_li_fraction=spec.min_li_fraction,
        max_site_fraction=spec.max_site_fraction,
        solubility_cap=spec.solubility_cap,
        guests=guests,
    )
    return cands, pd.DataFrame(columns=["row", "input", "reason", "field"])


def _run_chunk(
    index: int,
    fractions: np.ndarray,
    elements: tuple[str, ...],
    atoms: np.ndarray,
    labels: pd.DataFrame,
    models_dir: str | None,
    temperature_K: float | None,
    alpha: float,
    exact_stability: bool,
    electrodes: tuple[str, ...],
    exclude: tuple[str, ...],
    chunk_path: str,
) -> tuple[int, int]:
    """Predict one chunk and write it atomically (runs in a worker or on Dask)."""
    from ssbml.screening.predict import _cached_models, predict_chunk

    models = _cached_models(models_dir, temperature_K is not None)
    X = ElementFractions(fractions, elements, atoms)
    df = predict_chunk(
        X,
        labels,
        models,
        temperature_K=temperature_K,
        alpha=alpha,
        exact_stability=exact_stability,
        electrodes=electrodes,
        exclude=exclude,
    )
    atomic_write_parquet(df, Path(chunk_path))
    return index, len(df)


def _chunk_args(
    cands: Candidates, index: int, size: int, spec: ScreenSpec, store: ChunkStore, models_dir
) -> tuple:
    sl = slice(index * size, min((index + 1) * size, len(cands)))
    part = cands.take(sl)
    return (
        index,
        part.fractions.fractions,
        part.fractions.elements,
        part.fractions.atoms_per_formula,
        part.labels,
        None if models_dir is None else str(models_dir),
        spec.temperature_K,
        spec.alpha,
        spec.exact_stability,
        tuple(spec.electrodes),
        tuple(spec.exclude_phases),
        str(store.chunk_path(index)),
    )


def _execute(
    tasks: Iterable[tuple],
    n_tasks: int,
    *,
    scheduler: str | None,
    n_jobs: int,
    on_done: Callable[[int, int], None],
) -> None:
    """Run chunk tasks in-process, in local processes, or on a Dask cluster."""
    if scheduler:
        from distributed import Client, as_completed

        with Client(scheduler, timeout="30s") as client:
            futures = [client.submit(_run_chunk, *args, pure=False) for args in tasks]
            for fut in as_completed(futures):
                on_done(*fut.result())
        return
    if n_jobs <= 1 or n_tasks <= 1:
        for args in tasks:
            on_done(*_run_chunk(*args))
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx) as pool:
        futures = [pool.submit(_run_chunk, *args) for args in tasks]
        for fut in as_completed(futures):
            on_done(*fut.result())


def screen(spec: ScreenSpec, out_dir: str | Path, **options: Any) -> ScreenResult:
    """Screen the candidates of ``spec`` into ``out_dir`` (resuming if it holds an
    unfinished run of the same spec and models); returns the ranked table.

    ``options`` are those of :func:`screen_candidates` (criteria, models_dir,
    scheduler, n_jobs, progress, output_name, track, tracking_uri, top, report).
    """
    cands, rejected = build_candidates(spec)
    if cands.n_rejected:
        options.setdefault("rejected_candidates", cands.rejected)
    if spec.parent_structure is not None:
        options.setdefault("structure_table", _structure_table(cands, spec,
                                                               options.get("models_dir")))
        if "parent_migration" not in options:
            from ssbml.screening.parent_structure import parent_migration

            options["parent_migration"] = parent_migration(spec.parent_structure_info)
    return screen_candidates(cands, out_dir, spec=spec, rejected=rejected, **options)


def _structure_table(cands: Candidates, spec: ScreenSpec, models_dir: Any) -> pd.DataFrame:
    """Structure descriptors and structure-aware predictions of every candidate."""
    from ssbml.ml.store import load_model
    from ssbml.screening.parent_structure import STRUCTURE_MODEL, structure_columns

    model = load_model(STRUCTURE_MODEL, None if models_dir is None else Path(models_dir))
    return structure_columns(spec.parent_structure_info, cands, model, alpha=spec.alpha)


def default_output_dir(spec: ScreenSpec, models_dir: str | Path | None = None) -> Path:
    """``ssbml-output/screen-<name>-<fingerprint>``: named by the run's fingerprint
    (spec, model and reference hashes), so the same command resumes and changed
    parameters, models or reference data get a new folder; never outside
    ``ssbml-output``."""
    from ssbml.io import inside

    if spec.parent:
        name = f"{spec.parent}-{'-'.join(spec.dopants)}"
    elif spec.parent_structure:
        name = f"{Path(spec.parent_structure).stem}-{'-'.join(spec.dopants)}"
    else:
        name = Path(str(spec.input_file)).stem
    return inside("ssbml-output", f"screen-{name}-{run_fingerprint(spec, models_dir)[:8]}")


def run_fingerprint(spec: ScreenSpec, models_dir: str | Path | None = None) -> str:
    """sha256 identifying a screening run: its spec and the hashes of the models used."""
    from ssbml.ml.store import read_manifest
    from ssbml.screening.chunks import fingerprint

    manifest = read_manifest(Path(models_dir) if models_dir else None).get("models", {})
    hashes = {k: v.get("sha256") for k, v in sorted(manifest.items())}
    return fingerprint(
        {"spec": spec.as_dict(), "models": hashes, "reference": _reference_fingerprint(spec)}
    )


def screen_candidates(
    cands: Candidates,
    out_dir: str | Path,
    *,
    spec: ScreenSpec,
    rejected: pd.DataFrame | None = None,
    rejected_candidates: pd.DataFrame | None = None,
    criteria: RankingCriteria | None = None,
    models_dir: str | Path | None = None,
    scheduler: str | None = None,
    n_jobs: int = 1,
    progress: bool = False,
    output_name: str = "candidates.parquet",
    track: bool = False,
    tracking_uri: str | None = None,
    top: int = 20,
    report: bool = True,
    structure_table: pd.DataFrame | None = None,
    parent_migration: dict | None = None,
) -> ScreenResult:
    """Screen already generated candidates; ``spec`` supplies the temperature, interval
    level and chunk size and, with the models' hashes, the run's fingerprint.
    ``rejected_candidates`` (grid points not made, with reasons) is written to
    ``rejected_candidates.csv``."""
    from ssbml.screening.predict import _cached_models

    start = time.perf_counter()
    out_dir = Path(out_dir)
    if rejected is None:
        rejected = pd.DataFrame(columns=["row", "input", "reason", "field"])
    # the same cache key as the chunks run in this process (see _chunk_args): loaded once
    models = _cached_models(None if models_dir is None else str(models_dir),
                            spec.temperature_K is not None)
    from ssbml.screening.candidates import doping_plan_text

    doping_plan = doping_plan_text(cands.labels.attrs)
    cands = _by_chemical_system(cands)
    n_chunks = max(1, -(-len(cands) // spec.chunk_size))
    fingerprint_spec = {
        "spec": spec.as_dict(),
        "models": models.hashes,
        "reference": _reference_fingerprint(spec),
        "n": len(cands),
    }
    store = ChunkStore(out_dir, fingerprint_spec, n_chunks)
    todo = store.open()
    if len(rejected):
        atomic_write_csv(rejected, out_dir / "rejected.csv")
    if rejected_candidates is not None and len(rejected_candidates):
        atomic_write_csv(rejected_candidates, out_dir / "rejected_candidates.csv")

    bar = None
    if progress and todo:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        bar = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            transient=False,
        )
        bar.start()
        task = bar.add_task(f"screening {len(cands):,} candidates", total=n_chunks)
        bar.update(task, completed=n_chunks - len(todo))

    def on_done(index: int, n: int) -> None:
        if bar is not None:
            bar.advance(task)

    tasks = (_chunk_args(cands, i, spec.chunk_size, spec, store, models_dir) for i in todo)
    try:
        _execute(tasks, len(todo), scheduler=scheduler, n_jobs=n_jobs, on_done=on_done)
    finally:
        store.release()
        if bar is not None:
            bar.stop()

    screened = store.read_all()
    if structure_table is not None:
        from ssbml.screening.parent_structure import apply_structure_agreement

        screened = apply_structure_agreement(
            screened.merge(structure_table, on="candidate_id", how="left", validate="1:1"))
    table = rank_candidates(screened, criteria)
    if len(table) != len(cands) or table["candidate_id"].duplicated().any():
        raise RuntimeError(
            f"{out_dir}: {len(table)} screened rows for {len(cands)} candidates; the chunk "
            "files are inconsistent. Delete the folder and run again."
        )
    _write_table(table, out_dir / output_name)
    seconds = time.perf_counter() - start
    result = ScreenResult(table, rejected, out_dir, n_chunks, seconds)
    result.rejected_candidates = rejected_candidates
    result.doping_plan = doping_plan
    result.parent_migration = parent_migration
    write = None
    if report:
        from ssbml.screening.report import write_report

        def write() -> None:
            write_report(result, out_dir, top=top, criteria=criteria or RankingCriteria(),
                         spec=spec, models_dir=models_dir)

    if track:
        tracked = _tracked_run(out_dir, tracking_uri) if not todo else None
        if tracked is not None:
            # every chunk was reused from a run already logged: never log a duplicate
            result.run_id = tracked
            if write is not None:
                write()
        else:
            # the report is written inside the run so that it can name the run id
            result.run_id = _track(
                result, spec, criteria or RankingCriteria(), models, tracking_uri,
                models_dir, write_report=write,
            )
            _record_tracked_run(out_dir, tracking_uri, result.run_id)
    elif write is not None:
        write()
    return result


def _tracked_run(out_dir: Path, tracking_uri: str | None) -> str | None:
    """The mlflow run id already logged for this output folder and tracking URI."""
    import json

    path = out_dir / "mlflow_run.json"
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    from ssbml.tracking.runs import resolve_tracking_uri

    if record.get("tracking_uri") != resolve_tracking_uri(tracking_uri):
        return None
    return record.get("run_id")


def _record_tracked_run(out_dir: Path, tracking_uri: str | None, run_id: str) -> None:
    import json

    from ssbml.tracking.runs import resolve_tracking_uri

    record = {"run_id": run_id, "tracking_uri": resolve_tracking_uri(tracking_uri)}
    atomic_write_text(json.dumps(record) + "\n", out_dir / "mlflow_run.json")


STABILITY_VERSION = 2
"""Bump when the stability computation of a screen changes (new fingerprint)."""


def _reference_fingerprint(spec: ScreenSpec) -> dict[str, Any]:
    """What the stability columns depend on besides the spec: the reference table's
    sha256 (or None when it is not on this machine) and the computation's version."""
    from ssbml.screening.exact import reference_available

    sha = None
    if spec.exact_stability and reference_available():
        from ssbml.data.thermo import reference_sha256

        sha = reference_sha256()
    return {"sha256": sha, "version": STABILITY_VERSION}


def _by_chemical_system(cands: Candidates) -> Candidates:
    """Candidates ordered by chemical system (stable within a system), so each chunk
    spans few systems and each phase diagram is built by few workers."""
    present = cands.fractions.fractions > 0
    if len(cands) < 2 or present.shape[1] == 0:
        return cands
    _, key = np.unique(present, axis=0, return_inverse=True)
    order = np.argsort(key.ravel(), kind="stable")
    if (order == np.arange(len(order))).all():
        return cands
    return cands.take(order)


def _write_table(table: pd.DataFrame, path: Path) -> None:
    """Write the ranked table as Parquet or CSV (by extension), atomically."""
    if path.suffix.lower() in (".parquet", ".pq"):
        atomic_write_parquet(table, path)
    elif path.suffix.lower() == ".csv":
        atomic_write_csv(table, path)
    else:
        raise ValueError(f"output must end in .parquet or .csv, got {path.name}")


def _track(
    result: ScreenResult,
    spec: ScreenSpec,
    criteria: RankingCriteria,
    models: Any,
    tracking_uri: str | None,
    models_dir: str | Path | None = None,
    write_report: Callable[[], None] | None = None,
) -> str:
    """Log the screening as an mlflow run: parameters, model hashes and registry
    versions, the candidates as an input data set, counts, report."""
    import logging

    import mlflow

    from ssbml.tracking import start_run

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    table = result.table
    params = {k: v for k, v in spec.as_dict().items() if v not in (None, {}, ())}
    params.update({f"filter_{k}": v for k, v in asdict(criteria).items() if v is not None})
    with start_run(
        experiment="ssbml-screening", run_name=_run_name(spec), tracking_uri=tracking_uri
    ) as run:
        mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
        mlflow.set_tags({f"model_sha256.{k}": v for k, v in models.hashes.items()})
        if spec.parent_structure is not None:
            from ssbml.ml.store import read_manifest
            from ssbml.screening.parent_structure import STRUCTURE_MODEL

            entry = read_manifest(Path(models_dir) if models_dir else None).get(
                "models", {}).get(STRUCTURE_MODEL, {})
            info = spec.parent_structure_info
            mlflow.set_tags({f"model_sha256.{STRUCTURE_MODEL}": entry.get("sha256", ""),
                             "parent_structure": info.source,
                             "parent_structure_sha256": info.sha256})
            m = result.parent_migration or {}
            if "error" in m:
                mlflow.set_tag("parent_bvse_error", m["error"][:500])
            for d, v in (m.get("barriers_eV") or {}).items():
                if v is not None:
                    mlflow.log_metric(f"parent_bvse_barrier_{d}_eV", float(v))
        from ssbml.tracking.registry import log_screening_inputs

        log_screening_inputs(result, spec, None if models_dir is None else Path(models_dir))
        metrics = {
            "n_candidates": len(table),
            "n_rejected": len(result.rejected),
            "n_rejected_candidates": 0
            if result.rejected_candidates is None
            else len(result.rejected_candidates),
            "n_passing": int(table["passes_filters"].sum()),
            "n_pareto": int(table["pareto"].sum()),
            "n_chunks": result.n_chunks,
            "seconds": result.seconds,
            "best_log10_sigma_lower": float(table["score"].max()),
        }
        if "in_domain" in table.columns:
            metrics["n_out_of_domain"] = int((~table["in_domain"]).sum())
        mlflow.log_metrics(metrics)
        if write_report is not None:
            result.run_id = run.info.run_id
            write_report()
        for name in ("report.html", "pareto.png", "windows.png", "top.csv", "rejected.csv",
                     "rejected_candidates.csv"):
            path = result.out_dir / name
            if path.is_file():
                mlflow.log_artifact(str(path))
        return run.info.run_id


def _run_name(spec: ScreenSpec) -> str:
    if spec.parent:
        return f"screen {spec.parent} + {','.join(spec.dopants)}"
    if spec.parent_structure:
        return f"screen {Path(spec.parent_structure).name} + {','.join(spec.dopants)}"
    return f"screen {Path(spec.input_file).name}"

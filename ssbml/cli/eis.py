"""``ssbml eis``: impedance spectra to conductivity (S/cm) and ASR (ohm cm^2); Arrhenius fits.

Only typer and the standard library are imported here; numpy, scipy, impedance.py and
matplotlib are imported inside the commands.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from ssbml.cli.options import number

app = typer.Typer(help="Impedance spectra to conductivity (S/cm) and Arrhenius fits (eV).",
                  no_args_is_help=True)

_POS = number(positive=True)


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(code=2)


def _temperatures(values: list[str] | None, n: int) -> list[float | None]:
    from ssbml.eis.spectrum import EISInputError, parse_temperature

    if not values:
        return [None] * n
    if len(values) != n:
        raise EISInputError(f"{len(values)} --temperature value(s) for {n} file(s); give one "
                            "per file, in the same order")
    return [parse_temperature(v) for v in values]


def _fit_files(files, temperature, thickness_mm, area_cm2, diameter_mm, symmetric, circuit,
               arcs, convention, instrument, max_rms_percent, f_min_hz=None, f_max_hz=None):
    from ssbml.eis.fit import CircuitFit
    from ssbml.eis.physics import Pellet, summarize
    from ssbml.eis.spectrum import EISInputError, crop, read_spectrum

    temps = _temperatures(temperature, len(files))
    pellet = None
    if thickness_mm is not None or area_cm2 is not None or diameter_mm is not None:
        if thickness_mm is None:
            raise EISInputError("--thickness-mm is needed with an electrode area or diameter")
        pellet = Pellet.from_mm(thickness_mm, area_cm2=area_cm2, diameter_mm=diameter_mm,
                                symmetric=symmetric)
    roles = tuple(r.strip() for r in arcs.split(",")) if arcs else None
    out = []
    for path, T in zip(files, temps, strict=True):
        spec = read_spectrum(path, instrument=instrument, convention=convention,
                             temperature_K=T)
        if f_min_hz is not None or f_max_hz is not None:
            spec = crop(spec, f_min_hz, f_max_hz)
        fit = CircuitFit(circuit=circuit, arcs=roles, max_rms_percent=max_rms_percent)
        fit.fit(spec)
        out.append((fit, summarize(fit, pellet)))
    return out


def _fmt(v, err=None, unit="") -> str:
    if v is None:
        return "-"
    s = f"{v:.4g}"
    if err is not None and err == err:
        s += f" +/- {err:.2g}"
    return f"{s} {unit}".rstrip()


@app.command("fit")
def fit(
    files: list[Path] = typer.Argument(..., help="Spectrum files (CSV or instrument format)."),
    thickness_mm: float | None = typer.Option(None, "--thickness-mm", callback=_POS,
                                              help="Pellet thickness (mm)."),
    area_cm2: float | None = typer.Option(None, "--area-cm2", callback=_POS,
                                          help="Electrode area (cm^2)."),
    diameter_mm: float | None = typer.Option(None, "--diameter-mm", callback=_POS,
                                             help="Electrode diameter (mm), instead of area."),
    symmetric: bool = typer.Option(True, "--symmetric/--asymmetric",
                                   help="Symmetric cell: ASR is half the interface R x area."),
    temperature: list[str] | None = typer.Option(
        None, "--temperature", help="Temperature with unit ('25C', '298.15K'), once per file "
        "in order."),
    circuit: str = typer.Option("auto", "--circuit", help="'auto', a preset (bulk-blocking, "
                                "bulk-gb-blocking, bulk-gb-interface, intercept-blocking, ...) "
                                "or an impedance.py string like R0-p(R1,CPE1)-CPE2."),
    arcs: str | None = typer.Option(
        None, "--arcs", help="Roles of the arcs from high to low frequency, e.g. "
        "'bulk,interface' (default bulk,gb,interface)."),
    convention: str = typer.Option("auto", "--convention",
                                   help="Imaginary column: auto, \"Z''\" or \"-Z''\"."),
    instrument: str = typer.Option("csv", "--instrument", help="csv or an impedance.py "
                                   "reader: gamry, autolab, parstat, zplot, versastudio, "
                                   "powersuite, biologic, chinstruments."),
    max_rms_percent: float = typer.Option(5.0, callback=_POS,
                                          help="Largest accepted RMS residual (% of |Z|)."),
    f_min_hz: float | None = typer.Option(None, "--f-min-hz", callback=_POS,
                                          help="Drop points below (Hz)."),
    f_max_hz: float | None = typer.Option(None, "--f-max-hz", callback=_POS,
                                          help="Drop points above (Hz), "
                                          "e.g. an inductive high-frequency tail."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (one object per file)."),
    plot: Path | None = typer.Option(None, "--plot", help="Nyquist plot PNG (several files: "
                                     "one PNG each, the file name appended)."),
) -> None:
    """Fit an equivalent circuit to each spectrum: resistances, conductivity, ASR.

    Reports resistances (ohm), bulk and total conductivity (S/cm) and interface ASR (ohm cm^2)
    with standard errors.
    """
    from ssbml.eis.spectrum import EISInputError
    from ssbml.io import OutputPathError, inside

    if f_min_hz is not None and f_max_hz is not None and f_min_hz >= f_max_hz:
        raise _fail(ValueError(f"--f-min-hz {f_min_hz:g} must be below --f-max-hz {f_max_hz:g}"))
    try:
        if plot is not None:  # before the fit: a bad folder is reported in a second
            plot.parent.mkdir(parents=True, exist_ok=True)
        results = _fit_files(files, temperature, thickness_mm, area_cm2, diameter_mm,
                             symmetric, circuit, arcs, convention, instrument, max_rms_percent,
                             f_min_hz, f_max_hz)
        if plot is not None:
            from ssbml.eis.plot import plot_nyquist

            for fit_, _ in results:
                target = plot
                if len(results) > 1:
                    target = inside(plot.parent, f"{plot.stem}_"
                                    f"{Path(fit_.spectrum_.source).stem}{plot.suffix}")
                plot_nyquist(fit_, target)
    except (EISInputError, OutputPathError, OSError) as exc:
        raise _fail(exc) from None
    summaries = [s for _, s in results]
    if as_json:
        typer.echo(json.dumps(summaries[0] if len(summaries) == 1 else summaries, indent=2))
        return
    for s in summaries:
        T = s["temperature_K"]
        t_text = f", T = {T:.2f} K" if T else ""
        typer.echo(f"{s['file']}  ({s['n_points']} points, {s['frequency_min_Hz']:.3g}-"
                   f"{s['frequency_max_Hz']:.3g} Hz{t_text})")
        typer.echo(f"  imaginary column: {s['convention']} ({s['convention_note']})")
        typer.echo(f"  circuit: {s['circuit']}   RMS residual {s['residual_rms_percent']:.2f}% "
                   "of |Z|")
        for a in s["arcs"]:
            typer.echo(f"  {a['role']:<9} {a['R_name']}: R = {_fmt(a['R_ohm'], a['R_err_ohm'])} "
                       f"ohm, C_eff = {a['C_eff_F']:.3g} F, n = {a['n']:.3f}, "
                       f"apex {a['f_peak_Hz']:.3g} Hz")
        typer.echo(f"  R_series_ohm = {_fmt(s['R_series_ohm'])}")
        if "sigma_total_S_cm" in s:
            bulk = _fmt(s["sigma_bulk_S_cm"], s["sigma_bulk_err_S_cm"])
            typer.echo(f"  sigma_bulk_S_cm  = {bulk}")
            typer.echo(f"  sigma_total_S_cm = "
                       f"{_fmt(s['sigma_total_S_cm'], s['sigma_total_err_S_cm'])}"
                       f"   ({s['total_from']})")
            halved = "  (symmetric cell: halved)" if s["asr_ohm_cm2"] and s["symmetric"] else ""
            asr = _fmt(s["asr_ohm_cm2"], s["asr_err_ohm_cm2"])
            typer.echo(f"  asr_ohm_cm2      = {asr}{halved}")
        else:
            typer.echo("  (give --thickness-mm and --area-cm2 or --diameter-mm for conductivity)")
        for w in s["warnings"]:
            typer.echo(f"  warning: {w}")


@app.command("arrhenius")
def arrhenius(
    inputs: list[Path] = typer.Argument(..., help="A CSV table (temperature_K or "
                                        "temperature_C, sigma_S_cm or log10_sigma), JSON "
                                        "files from 'ssbml eis fit --json', or spectra."),
    kind: str = typer.Option("total", "--kind", help="Conductivity to fit: total or bulk."),
    temperature: list[str] | None = typer.Option(None, "--temperature",
                                                 help="Per spectrum, in order ('25C')."),
    thickness_mm: float | None = typer.Option(None, "--thickness-mm", callback=_POS),
    area_cm2: float | None = typer.Option(None, "--area-cm2", callback=_POS),
    diameter_mm: float | None = typer.Option(None, "--diameter-mm", callback=_POS),
    circuit: str = typer.Option("auto", "--circuit"),
    convention: str = typer.Option("auto", "--convention"),
    instrument: str = typer.Option("csv", "--instrument"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    plot: Path | None = typer.Option(None, "--plot", help="Arrhenius plot PNG."),
) -> None:
    """Arrhenius fit of log10(sigma T) against 1/T: Ea (eV), prefactor, sigma at 25 C.

    Also tests for a change of slope.
    """
    from ssbml.eis.arrhenius import (
        ArrheniusFit,
        fit_json_points,
        is_arrhenius_table,
        read_arrhenius_table,
    )
    from ssbml.eis.spectrum import EISInputError

    try:
        if kind not in ("total", "bulk"):
            raise EISInputError(f"--kind must be total or bulk, got {kind!r}")
        key = f"sigma_{kind}_S_cm"
        T, sigma = [], []
        first = inputs[0]
        if len(inputs) == 1 and first.suffix.lower() == ".csv" and is_arrhenius_table(first):
            T, sigma = read_arrhenius_table(str(first))
        elif all(p.suffix.lower() == ".json" for p in inputs):
            for p in inputs:
                for _, t_k, sig in fit_json_points(json.loads(p.read_text()), kind, str(p)):
                    T.append(t_k)
                    sigma.append(sig)
        else:
            if thickness_mm is None:
                raise EISInputError("spectra need --thickness-mm and --area-cm2/--diameter-mm")
            if not temperature:
                raise EISInputError("spectra need one --temperature per file")
            for _, s in _fit_files(inputs, temperature, thickness_mm, area_cm2, diameter_mm,
                                      True, circuit, None, convention, instrument, 5.0):
                T.append(s["temperature_K"])
                sigma.append(s[key])
                for w in s["warnings"]:
                    typer.echo(f"warning ({s['file']}): {w}", err=True)
        if plot is not None:
            plot.parent.mkdir(parents=True, exist_ok=True)
        fit_ = ArrheniusFit().fit(T, sigma)
        if plot is not None:
            from ssbml.eis.plot import plot_arrhenius

            plot_arrhenius(fit_, plot, kind=kind)
    except (EISInputError, OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _fail(exc) from None
    d = fit_.to_dict()
    d["sigma_kind"] = kind
    if as_json:
        typer.echo(json.dumps(d, indent=2))
        return
    typer.echo(f"{d['n_points']} temperatures, {d['temperature_min_K']:.2f}-"
               f"{d['temperature_max_K']:.2f} K ({kind} conductivity)")
    typer.echo(f"  Ea_eV = {d['Ea_eV']:.4f} +/- {d['Ea_err_eV']:.4f}")
    typer.echo(f"  log10 prefactor (S K/cm) = {d['log10_prefactor_S_K_cm']:.3f} +/- "
               f"{d['log10_prefactor_err']:.3f}")
    typer.echo(f"  sigma_25C_S_cm = {d['sigma_25C_S_cm']:.4g} (log10 +/- "
               f"{d['log10_sigma_25C_err']:.3f}"
               f"{', extrapolated' if d['sigma_25C_extrapolated'] else ''})")
    typer.echo(f"  {d['slope_test']}")
    for w in d["warnings"]:
        typer.echo(f"  warning: {w}")


if __name__ == "__main__":  # pragma: no cover
    app()
    sys.exit(0)

"""Reading and validating impedance spectra: conventions, instrument files, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from ssbml.eis.spectrum import (
    MIN_POINTS,
    EISInputError,
    Spectrum,
    parse_temperature,
    read_spectrum,
)
from ssbml.eis.synthetic import frequencies, pellet_parameters, simulate


@pytest.fixture(scope="module")
def spec() -> Spectrum:
    circuit, params, _ = pellet_parameters(sigma_bulk_S_cm=1e-4, sigma_gb_S_cm=2e-4)
    return simulate(circuit, params, frequencies(1e7, 0.1, 8), noise=0.005, seed=1)


def _write(path, f, zr, zi, header="frequency_Hz,Z'_ohm,-Z''_ohm", sep=","):
    lines = [header] if header else []
    lines += [sep.join(f"{v:.8g}" for v in row) for row in zip(f, zr, zi, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_minus_z_header_detected_and_values_round_trip(tmp_path, spec):
    p = _write(tmp_path / "s.csv", spec.frequency_Hz, spec.Z_ohm.real, -spec.Z_ohm.imag)
    got = read_spectrum(p, temperature_K=300.0)
    assert got.convention == "-Z''"
    assert "header" in got.convention_note
    np.testing.assert_allclose(got.Z_ohm, spec.Z_ohm, rtol=1e-6)
    assert got.temperature_K == 300.0
    assert len(got.meta["sha256"]) == 64


def test_convention_from_data_signs_without_header(tmp_path, spec):
    # no header, positive imaginary column: must be read as -Z''
    p = _write(tmp_path / "neg.txt", spec.frequency_Hz, spec.Z_ohm.real, -spec.Z_ohm.imag,
               header=None, sep="\t")
    got = read_spectrum(p)
    assert got.convention == "-Z''" and "data signs" in got.convention_note
    np.testing.assert_allclose(got.Z_ohm, spec.Z_ohm, rtol=1e-6)
    # plain Z'' stored (negative values): read as is
    p2 = _write(tmp_path / "pos.csv", spec.frequency_Hz, spec.Z_ohm.real, spec.Z_ohm.imag,
                header="freq,Zreal,Zimag")
    got2 = read_spectrum(p2)
    assert got2.convention == "Z''"
    np.testing.assert_allclose(got2.Z_ohm, spec.Z_ohm, rtol=1e-6)


def test_explicit_convention_overrides_and_contradiction_is_refused(tmp_path, spec):
    p = _write(tmp_path / "s.csv", spec.frequency_Hz, spec.Z_ohm.real, spec.Z_ohm.imag)
    # header says -Z'' but values are negative (they are Z''): refuse, ask the user
    with pytest.raises(EISInputError, match="labelled -Z''"):
        read_spectrum(p)
    got = read_spectrum(p, convention="Z''")
    np.testing.assert_allclose(got.Z_ohm, spec.Z_ohm, rtol=1e-6)
    assert "user" in got.convention_note


def test_increasing_sweep_is_accepted_and_ordered(tmp_path, spec):
    f, z = spec.frequency_Hz[::-1], spec.Z_ohm[::-1]
    got = read_spectrum(_write(tmp_path / "up.csv", f, z.real, -z.imag))
    assert np.all(np.diff(got.frequency_Hz) < 0)
    np.testing.assert_allclose(got.Z_ohm, spec.Z_ohm, rtol=1e-6)


def test_gamry_file_through_impedance_py(tmp_path, spec):
    lines = ["EXPLAIN", "ZCURVE\tTABLE", "\tPt\tTime\tFreq\tZreal\tZimag",
             "\t#\ts\tHz\tohm\tohm"]
    lines += [f"\t{i}\t{i}\t{f:.8g}\t{z.real:.8g}\t{z.imag:.8g}"
              for i, (f, z) in enumerate(zip(spec.frequency_Hz, spec.Z_ohm, strict=True))]
    p = tmp_path / "run.DTA"
    p.write_text("\n".join(lines) + "\n")
    got = read_spectrum(p, instrument="gamry")
    assert got.convention == "Z''"
    np.testing.assert_allclose(got.Z_ohm, spec.Z_ohm, rtol=1e-6)


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda f, zr, zi: (f[: MIN_POINTS - 1], zr[: MIN_POINTS - 1], zi[: MIN_POINTS - 1]),
         "too few points"),
        (lambda f, zr, zi: (np.r_[f[:5], f[6], f[5], f[7:]], zr, zi), "not sorted: row 7"),
        (lambda f, zr, zi: (np.r_[f[:5], f[4], f[6:]], zr, zi), "rows 5 and 6 have the same"),
        (lambda f, zr, zi: (f, np.r_[zr[:3], np.nan, zr[4:]], zi), r"row 4 field Z' \(ohm\)"),
        (lambda f, zr, zi: (np.r_[f[:-1], -1.0], zr, zi), "frequency_Hz"),
    ],
    ids=["too-few", "unsorted", "duplicate", "nan", "negative-frequency"],
)
def test_bad_spectra_are_refused_with_row_and_field(tmp_path, spec, mutate, match):
    f, zr, zi = mutate(spec.frequency_Hz.copy(), spec.Z_ohm.real.copy(), -spec.Z_ohm.imag)
    p = _write(tmp_path / "bad.csv", f, zr, zi)
    with pytest.raises(EISInputError, match=match):
        read_spectrum(p)


def test_non_number_cell_and_bad_header_and_missing_file(tmp_path, spec):
    p = _write(tmp_path / "s.csv", spec.frequency_Hz, spec.Z_ohm.real, -spec.Z_ohm.imag)
    lines = p.read_text().splitlines()
    lines[3] = lines[3].replace(lines[3].split(",")[1], "abc")
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(EISInputError, match=r"row 3 field Z' \(ohm\) = 'abc'"):
        read_spectrum(p)
    q = _write(tmp_path / "h.csv", spec.frequency_Hz, spec.Z_ohm.real, -spec.Z_ohm.imag,
               header="a,b,c")
    with pytest.raises(EISInputError, match="cannot tell"):
        read_spectrum(q)
    with pytest.raises(EISInputError, match="no such file"):
        read_spectrum(tmp_path / "nope.csv")
    with pytest.raises(EISInputError, match="instrument"):
        read_spectrum(q, instrument="nonsense")


def test_parse_temperature():
    assert parse_temperature("25C") == pytest.approx(298.15)
    assert parse_temperature("298.15 K") == pytest.approx(298.15)
    assert parse_temperature("-40 °C") == pytest.approx(233.15)
    for bad in ("25", "hot", "-300C"):
        with pytest.raises(EISInputError):
            parse_temperature(bad)


def test_crop_keeps_the_band_and_refuses_too_little(spec):
    from ssbml.eis.spectrum import crop

    out = crop(spec, f_min_Hz=1.0, f_max_Hz=1e6)
    assert out.frequency_Hz.max() <= 1e6 and out.frequency_Hz.min() >= 1.0
    assert len(out) == int(np.sum((spec.frequency_Hz >= 1.0) & (spec.frequency_Hz <= 1e6)))
    assert "cropped" in out.meta
    with pytest.raises(EISInputError, match="too few points"):
        crop(spec, f_min_Hz=1e6, f_max_Hz=2e6)

"""Known-chemistry check: does the shipped conductivity model order well-established
pairs of solid electrolytes as the literature does?

Each pair is (better, worse, source): room-temperature conductivities measured in the
cited work. The model is not tuned on this list; it is a measurement, reported as
agreement count plus the predicted values (log10 S/cm at 298.15 K) and whether each
composition is inside the model's applicability domain.

    python experiments/known_chemistry.py            # markdown table on stdout
"""

from __future__ import annotations

PAIRS = [
    ("Li6.4Ga0.2La3Zr2O12", "Li7La3Zr2O12",
     "Ga-LLZO ~1e-3 vs tetragonal LLZO ~1e-6 S/cm; Bernuy-Lopez et al., Chem. Mater. 26, "
     "3610 (2014); Awaka et al., J. Solid State Chem. 182, 2046 (2009)"),
    ("Li6.4La3Zr1.4Ta0.6O12", "Li7La3Zr2O12",
     "Ta-LLZO 1.0e-3 S/cm; Li, Han, Goodenough et al., J. Mater. Chem. 22, 15357 (2012)"),
    ("Li6.25Al0.25La3Zr2O12", "Li7La3Zr2O12",
     "Al stabilises cubic LLZO (~4e-4 S/cm); Buschmann et al., PCCP 13, 19378 (2011)"),
    ("Li5.5PS4.5Cl1.5", "Li6PS5Cl",
     "9.4e-3 vs ~2e-3 S/cm (cold-pressed); Adeli et al., Angew. Chem. Int. Ed. 58, 8681 "
     "(2019)"),
    ("Li7P2S8I", "Li3PS4",
     "6.3e-4 vs 1.6e-4 S/cm (beta-Li3PS4); Rangasamy et al., J. Am. Chem. Soc. 137, 1384 "
     "(2015); Liu et al., J. Am. Chem. Soc. 135, 975 (2013)"),
    ("Li3InCl6", "Li3YCl6",
     "1.49e-3 vs 0.51e-3 S/cm; Li et al., Energy Environ. Sci. 12, 2665 (2019); Asano et "
     "al., Adv. Mater. 30, 1803075 (2018)"),
    ("Li10GeP2S12", "Li3PS4",
     "1.2e-2 S/cm; Kamaya et al., Nat. Mater. 10, 682 (2011)"),
    ("Li1.3Al0.3Ti1.7(PO4)3", "LiTi2(PO4)3",
     "~7e-4 vs ~1e-6 S/cm; Aono et al., J. Electrochem. Soc. 137, 1023 (1990)"),
    ("Li6PS5Br", "Li6PS5I",
     "~1e-3 vs ~1e-6 S/cm (ordered I sublattice); Rao and Adams, Phys. Status Solidi A 208, "
     "1804 (2011); Deiseroth et al., Angew. Chem. Int. Ed. 47, 755 (2008)"),
    ("Li6.55Ga0.15La3Zr2O12", "Li6.4La3Zr1.4Ta0.6O12",
     "Ga-LLZO 1.3e-3 vs Ta-LLZO 1.0e-3 S/cm (close: a hard pair); Rettenwander et al., "
     "Chem. Mater. 28, 2384 (2016)"),
]


def main() -> None:
    from ssbml.ml.store import load_model

    model = load_model("conductivity")
    formulas = sorted({f for a, b, _ in PAIRS for f in (a, b)})
    pred = model.predict_interval(formulas, alpha=0.1)
    pred.index = formulas
    dom = None
    if hasattr(model, "domain_table"):
        dom = model.domain_table(formulas)
        dom.index = formulas
    agree = 0
    print("| better (literature) | worse | predicted log10 S/cm (better / worse) | "
          "order right | in domain | source |")
    print("|---|---|---|---|---|---|")
    for better, worse, source in PAIRS:
        pb, pw = pred.loc[better, "log10_sigma"], pred.loc[worse, "log10_sigma"]
        ok = pb > pw
        agree += ok
        ind = "n/a"
        if dom is not None and "in_domain" in dom.columns:
            ind = f"{'yes' if dom.loc[better, 'in_domain'] else 'no'} / " \
                  f"{'yes' if dom.loc[worse, 'in_domain'] else 'no'}"
        print(f"| {better} | {worse} | {pb:.2f} / {pw:.2f} | {'yes' if ok else 'no'} | "
              f"{ind} | {source} |")
    print(f"\nagreement: {agree} of {len(PAIRS)} pairs")


if __name__ == "__main__":
    main()

"""Citations of the methods and data behind the featurizers (BibTeX-like strings)."""

from __future__ import annotations

__all__ = ["MAGPIE", "PYMATGEN", "SHANNON", "PAULING"]

MAGPIE = (
    "@article{ward_agrawal_choudary_wolverton_2016, title={A general-purpose machine learning "
    "framework for predicting properties of inorganic materials}, volume={2}, "
    "DOI={10.1038/npjcompumats.2017.28}, number={1}, journal={npj Computational Materials}, "
    "author={Ward, Logan and Agrawal, Ankit and Choudhary, Alok and Wolverton, Christopher}, "
    "year={2016}}"
)
PYMATGEN = (
    "@article{Ong2013, author = {Ong, Shyue Ping and Richards, William Davidson and Jain, "
    "Anubhav and Hautier, Geoffroy and Kocher, Michael and Cholia, Shreyas and Gunter, Dan and "
    "Chevrier, Vincent L. and Persson, Kristin A. and Ceder, Gerbrand}, "
    "doi = {10.1016/j.commatsci.2012.10.028}, journal = {Computational Materials Science}, "
    "pages = {314--319}, title = {{Python Materials Genomics (pymatgen): A robust, open-source "
    "python library for materials analysis}}, volume = {68}, year = {2013}}"
)
SHANNON = (
    "@article{Shannon1976, author = {Shannon, R. D.}, title = {Revised effective ionic radii "
    "and systematic studies of interatomic distances in halides and chalcogenides}, "
    "journal = {Acta Crystallographica Section A}, volume = {32}, number = {5}, "
    "pages = {751--767}, year = {1976}, doi = {10.1107/S0567739476001551}}"
)
PAULING = (
    "@book{Pauling1960, author = {Pauling, Linus}, title = {The Nature of the Chemical Bond}, "
    "edition = {3}, publisher = {Cornell University Press}, year = {1960}}"
)

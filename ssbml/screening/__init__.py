"""Screening: generate candidate compositions, predict, rank, report."""

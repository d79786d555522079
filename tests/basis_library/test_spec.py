"""The --basis spec language: each generator name builds what it names."""

import pytest

from basis_library import LibraryError, ParseError, parse_basis


def test_unary_maps_named_in_a_spec_are_the_ones_built():
    assert parse_basis('unary(x, "log")', {}, ["x"]).names == ["log(x)"]
    assert parse_basis('unary(x, ["log", "inv"])', {}, ["x"]).names == ["log(x)", "1/x"]
    with pytest.raises(LibraryError, match="Unknown unary map.*lgo"):
        parse_basis('unary(x, "lgo")', {}, ["x"])
    with pytest.raises(ParseError, match="bad arguments to poly"):
        parse_basis("poly(x, 2, 3, 4)", {}, ["x"])
    # Defaults: degree 2 for poly, one harmonic for fourier.
    assert parse_basis("poly(x)", {}, ["x"]).names == ["1", "x", "x**2"]
    assert parse_basis("fourier(x)", {}, ["x"]).names == ["sin(x)", "cos(x)"]

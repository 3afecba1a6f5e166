import libcst as cst
import pytest

from fixer.rules.unused_imports import remove_unreferenced


@pytest.mark.parametrize(
    ("before", "requests", "after"),
    [
        ("from a import x, y\nprint(y)\n", [("a", "x", None)], "from a import y\nprint(y)\n"),
        ("from a import x\nz = 1\n", [("a", "x", None)], "z = 1\n"),
        ("from a import x as z\nz()\n", [("a", "x", "z")], "from a import x as z\nz()\n"),
        ("from a import x\nx()\n", [("a", "x", None)], "from a import x\nx()\n"),
        ("from a import x\n__all__ = ['x']\n", [("a", "x", None)], "from a import x\n__all__ = ['x']\n"),
        ("import a.b\nz = 1\n", [("a.b", None, None)], "z = 1\n"),
        ("import a.b\na.c()\n", [("a.b", None, None)], "import a.b\na.c()\n"),
        # Not module level: left alone (LibCST's visitor would empty the block into `pass`).
        ("try:\n    from a import x\nexcept ImportError:\n    pass\n", [("a", "x", None)],
         "try:\n    from a import x\nexcept ImportError:\n    pass\n"),
        # A shadowing local still counts as a use: kept, never wrongly removed.
        ("from a import x\ndef f(x):\n    return x\n", [("a", "x", None)], "from a import x\ndef f(x):\n    return x\n"),
    ],
)
def test_remove_unreferenced(before: str, requests: list, after: str) -> None:
    result = remove_unreferenced(cst.parse_module(before), requests).code
    assert result == after
    cst.parse_module(result)

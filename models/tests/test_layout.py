"""The package's one-way layout: commands import shared helpers only, never each other.
Standard library only (parses the sources, imports nothing):

    cd models && python3 -m unittest discover -s tests
"""

from __future__ import annotations

import ast
import os
import unittest

PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "modgate_models")


def source(module: str) -> str:
    with open(os.path.join(PACKAGE, module + ".py"), encoding="utf-8") as f:
        return f.read()


def declared() -> tuple[set[str], set[str]]:
    tree = ast.parse(source("__init__"))
    names = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            names[node.targets[0].id] = set(ast.literal_eval(node.value))
    return names["COMMANDS"], names["HELPERS"]


def package_imports(module: str) -> set[str]:
    """The modgate_models modules `module` imports (absolute or relative)."""
    tree = ast.parse(source(module))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # from . import x / from .x import y
                out.add(node.module.split(".")[0] if node.module else next(a.name for a in node.names))
            elif node.module == "modgate_models":
                out.update(a.name for a in node.names)
            elif node.module and node.module.startswith("modgate_models."):
                out.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            out.update(a.name.split(".")[1] for a in node.names if a.name.startswith("modgate_models."))
    return out


def top_level_imports(module: str) -> set[str]:
    tree = ast.parse(source(module))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            out.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            out.update(a.name.split(".")[0] for a in node.names)
    return out


class Layout(unittest.TestCase):
    def test_every_module_is_a_command_or_a_helper(self):
        commands, helpers = declared()
        files = {f[:-3] for f in os.listdir(PACKAGE) if f.endswith(".py") and f != "__init__.py"}
        self.assertEqual(files, commands | helpers)
        self.assertFalse(commands & helpers)

    def test_commands_import_helpers_only(self):
        commands, helpers = declared()
        for module in sorted(commands | helpers):
            with self.subTest(module=module):
                used = package_imports(module)
                self.assertLessEqual(used, helpers, f"{module} imports {sorted(used - helpers)}")

    def test_no_flat_script_imports(self):
        # The scripts that used to sit in models/ and import each other by file name.
        flat = {"build_minilm_onnx", "build_e5_onnx", "minilm_graph", "train_data", "train_head", "train_e5", "train_e5_full", "e5_q4"}
        commands, helpers = declared()
        for module in sorted(commands | helpers):
            with self.subTest(module=module):
                self.assertFalse(top_level_imports(module) & flat)

    def test_commands_have_a_main(self):
        commands, _ = declared()
        for module in sorted(commands):
            with self.subTest(module=module):
                self.assertIn('if __name__ == "__main__":\n    main()', source(module))


if __name__ == "__main__":
    unittest.main()
